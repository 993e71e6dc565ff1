import { isTokenChar } from './header-tokens.js';

/** An HTTP/1.x request head, with the fields of Node's IncomingMessage that a handshake uses. */
export interface RequestHead {
  method: string;
  url: string;
  httpVersion: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Names in lower case; repeated fields joined as Node does (", ", "; " for cookie, first value for singletons). */
  headers: Record<string, string | string[]>;
  /** Names and values as received, alternating. */
  rawHeaders: string[];
}

export interface RequestHeadLimits {
  /** Largest head, in bytes, request line and CRLFs included (431 beyond). */
  maxHeaderSize: number;
  /** Most header fields (431 beyond). */
  maxHeadersCount: number;
}

export type RequestHeadResult =
  | { state: 'incomplete' }
  | { state: 'done'; head: RequestHead; rest: Buffer }
  | { state: 'error'; status: number; reason: string };

/** Fields Node keeps only the first of when repeated (node:_http_incoming). */
const SINGLETONS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

const INCOMPLETE: RequestHeadResult = { state: 'incomplete' };

function error(status: number, reason: string): RequestHeadResult {
  return { state: 'error', status, reason };
}

/** Whether a field value has only visible characters, spaces, tabs and obs-text (no CR, LF, NUL, DEL...). */
function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

function isRequestTarget(target: string): boolean {
  if (target.length === 0) return false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Reads an HTTP/1.x request head (RFC 9112 §2-5) from bytes arriving in chunks, strictly: a request
 * line of token, target and HTTP/x.y; header fields `name: value` with token names and no control
 * characters; CRLF line ends; no obsolete line folding; one Host; no body. What follows the blank line
 * is returned as `rest` (the first WebSocket frames). Linear in the input; bounded by maxHeaderSize.
 */
export class RequestHeadParser {
  private readonly limits: RequestHeadLimits;
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(limits: RequestHeadLimits) {
    this.limits = limits;
  }

  push(chunk: Buffer): RequestHeadResult {
    // Look for the blank line in the new bytes, starting 3 bytes back in case it is split.
    const tailLength = Math.min(3, this.length);
    const window = tailLength === 0 ? chunk : Buffer.concat([this.tail(tailLength), chunk]);
    const found = window.indexOf('\r\n\r\n', 0, 'latin1');
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (found === -1) {
      if (this.length > this.limits.maxHeaderSize) {
        return error(431, `Request header block larger than ${this.limits.maxHeaderSize} bytes`);
      }
      return INCOMPLETE;
    }
    const end = this.length - chunk.length - tailLength + found;
    if (end + 4 > this.limits.maxHeaderSize) {
      return error(431, `Request header block larger than ${this.limits.maxHeaderSize} bytes`);
    }
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return this.parse(data.toString('latin1', 0, end), data.subarray(end + 4));
  }

  /** The last `n` bytes received so far. */
  private tail(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = this.chunks.length - 1; i >= 0 && filled < n; i--) {
      const c = this.chunks[i];
      const take = Math.min(n - filled, c.length);
      c.copy(out, n - filled - take, c.length - take);
      filled += take;
    }
    return out;
  }

  private parse(text: string, rest: Buffer): RequestHeadResult {
    // A server ignores empty lines before the request line (RFC 9112 §2.2).
    let start = 0;
    while (text.startsWith('\r\n', start)) start += 2;
    const lines = text.slice(start).split('\r\n');
    const requestLine = lines[0];
    const sp1 = requestLine.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 === -1 || requestLine.indexOf(' ', sp2 + 1) !== -1) {
      return error(400, 'Malformed request line: expected "METHOD target HTTP/1.1"');
    }
    const method = requestLine.slice(0, sp1);
    const url = requestLine.slice(sp1 + 1, sp2);
    const version = requestLine.slice(sp2 + 1);
    for (let i = 0; i < method.length; i++) {
      if (!isTokenChar(method.charCodeAt(i))) return error(400, 'Malformed request line: invalid method');
    }
    if (!isRequestTarget(url)) return error(400, 'Malformed request line: invalid request target');
    const v = /^HTTP\/(\d)\.(\d)$/.exec(version);
    if (v === null)
      return error(400, `Malformed request line: invalid HTTP version ${JSON.stringify(version)}`);
    if (lines.length - 1 > this.limits.maxHeadersCount) {
      return error(431, `More than ${this.limits.maxHeadersCount} request header fields`);
    }
    const headers: Record<string, string | string[]> = Object.create(null);
    const rawHeaders: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const first = line.charCodeAt(0);
      if (first === 0x20 || first === 0x09) return error(400, 'Obsolete line folding in a header field');
      const colon = line.indexOf(':');
      if (colon <= 0) return error(400, 'Malformed header field: expected "name: value"');
      const name = line.slice(0, colon);
      for (let j = 0; j < name.length; j++) {
        if (!isTokenChar(name.charCodeAt(j)))
          return error(400, `Invalid header field name ${JSON.stringify(name)}`);
      }
      const value = line.slice(colon + 1).trim();
      if (!isFieldValue(value)) return error(400, `Invalid character in header field ${name}`);
      rawHeaders.push(name, value);
      const key = name.toLowerCase();
      const existing = headers[key];
      if (existing === undefined) {
        headers[key] = key === 'set-cookie' ? [value] : value;
      } else if (key === 'host') {
        return error(400, 'More than one Host header field');
      } else if (key === 'set-cookie') {
        (existing as string[]).push(value);
      } else if (!SINGLETONS.has(key)) {
        headers[key] = `${existing}${key === 'cookie' ? '; ' : ', '}${value}`;
      }
    }
    if (headers['content-length'] !== undefined && headers['content-length'] !== '0') {
      return error(400, 'An upgrade request has no body: unexpected Content-Length');
    }
    if (headers['transfer-encoding'] !== undefined) {
      return error(400, 'An upgrade request has no body: unexpected Transfer-Encoding');
    }
    return {
      state: 'done',
      head: {
        method,
        url,
        httpVersion: `${v[1]}.${v[2]}`,
        httpVersionMajor: Number(v[1]),
        httpVersionMinor: Number(v[2]),
        headers: Object.assign({}, headers),
        rawHeaders,
      },
      rest,
    };
  }
}
