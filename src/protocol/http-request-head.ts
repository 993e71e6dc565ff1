import { Buffer } from 'node:buffer';
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

/** The characters String.prototype.trim() removes that can occur in a latin1 header line. */
function isTrimmed(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0;
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
  /** What came before the current chunk (null while nothing did: the usual head fits one read). */
  private chunks: Buffer[] | null = null;
  private length = 0;

  constructor(limits: RequestHeadLimits) {
    this.limits = limits;
  }

  push(chunk: Buffer): RequestHeadResult {
    if (this.chunks === null) {
      const found = chunk.indexOf('\r\n\r\n', 0, 'latin1');
      if (found !== -1 && found + 4 <= this.limits.maxHeaderSize) {
        return this.parse(chunk.toString('latin1', 0, found), chunk.subarray(found + 4));
      }
      this.chunks = [];
    }
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
    this.chunks = null;
    this.length = 0;
    return this.parse(data.toString('latin1', 0, end), data.subarray(end + 4));
  }

  /** The last `n` bytes received so far. */
  private tail(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    const chunks = this.chunks ?? [];
    let filled = 0;
    for (let i = chunks.length - 1; i >= 0 && filled < n; i--) {
      const c = chunks[i];
      const take = Math.min(n - filled, c.length);
      c.copy(out, n - filled - take, c.length - take);
      filled += take;
    }
    return out;
  }

  private parse(text: string, rest: Buffer): RequestHeadResult {
    // One pass over the text by index (no split into lines). A server ignores empty lines before
    // the request line (RFC 9112 §2.2).
    let pos = 0;
    while (text.startsWith('\r\n', pos)) pos += 2;
    let eol = text.indexOf('\r\n', pos);
    if (eol === -1) eol = text.length;
    const sp1 = text.indexOf(' ', pos);
    const sp2 = sp1 === -1 || sp1 >= eol ? -1 : text.indexOf(' ', sp1 + 1);
    if (sp1 <= pos || sp1 >= eol || sp2 === -1 || sp2 >= eol || text.lastIndexOf(' ', eol - 1) !== sp2) {
      return error(400, 'Malformed request line: expected "METHOD target HTTP/1.1"');
    }
    for (let i = pos; i < sp1; i++) {
      if (!isTokenChar(text.charCodeAt(i))) return error(400, 'Malformed request line: invalid method');
    }
    const url = text.slice(sp1 + 1, sp2);
    if (!isRequestTarget(url)) return error(400, 'Malformed request line: invalid request target');
    // HTTP/d.d
    const major = text.charCodeAt(sp2 + 6) - 0x30;
    const minor = text.charCodeAt(sp2 + 8) - 0x30;
    if (
      eol - sp2 !== 9 ||
      !text.startsWith('HTTP/', sp2 + 1) ||
      text.charCodeAt(sp2 + 7) !== 0x2e ||
      !(major >= 0 && major <= 9) ||
      !(minor >= 0 && minor <= 9)
    ) {
      return error(
        400,
        `Malformed request line: invalid HTTP version ${JSON.stringify(text.slice(sp2 + 1, eol))}`,
      );
    }
    const method = text.slice(pos, sp1);
    // Node's IncomingMessage.headers is a plain object; '__proto__' is defined as an own property
    // and existence checks use Object.hasOwn, so no header can reach Object.prototype.
    const headers: Record<string, string | string[]> = {};
    const rawHeaders: string[] = [];
    let count = 0;
    pos = eol + 2;
    while (pos < text.length) {
      eol = text.indexOf('\r\n', pos);
      if (eol === -1) eol = text.length;
      if (++count > this.limits.maxHeadersCount) {
        return error(431, `More than ${this.limits.maxHeadersCount} request header fields`);
      }
      const first = text.charCodeAt(pos);
      if (first === 0x20 || first === 0x09) return error(400, 'Obsolete line folding in a header field');
      const colon = text.indexOf(':', pos);
      if (colon <= pos || colon >= eol) {
        return error(400, 'Malformed header field: expected "name: value"');
      }
      for (let j = pos; j < colon; j++) {
        if (!isTokenChar(text.charCodeAt(j))) {
          return error(400, `Invalid header field name ${JSON.stringify(text.slice(pos, colon))}`);
        }
      }
      // The value without its leading and trailing whitespace (OWS, and what trim() removes).
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && isTrimmed(text.charCodeAt(vs))) vs++;
      while (ve > vs && isTrimmed(text.charCodeAt(ve - 1))) ve--;
      for (let j = vs; j < ve; j++) {
        const c = text.charCodeAt(j);
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
          return error(400, `Invalid character in header field ${text.slice(pos, colon)}`);
        }
      }
      const name = text.slice(pos, colon);
      const value = text.slice(vs, ve);
      rawHeaders.push(name, value);
      const key = name.toLowerCase();
      if (!Object.hasOwn(headers, key)) {
        const v = key === 'set-cookie' ? [value] : value;
        if (key === '__proto__')
          Object.defineProperty(headers, key, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else headers[key] = v;
      } else if (key === 'host') {
        return error(400, 'More than one Host header field');
      } else if (key === 'set-cookie') {
        (headers[key] as string[]).push(value);
      } else if (!SINGLETONS.has(key)) {
        headers[key] = `${headers[key]}${key === 'cookie' ? '; ' : ', '}${value}`;
      }
      pos = eol + 2;
    }
    const contentLength = Object.hasOwn(headers, 'content-length') ? headers['content-length'] : undefined;
    if (contentLength !== undefined && contentLength !== '0') {
      return error(400, 'An upgrade request has no body: unexpected Content-Length');
    }
    if (Object.hasOwn(headers, 'transfer-encoding')) {
      return error(400, 'An upgrade request has no body: unexpected Transfer-Encoding');
    }
    return {
      state: 'done',
      head: {
        method,
        url,
        httpVersion: `${major}.${minor}`,
        httpVersionMajor: major,
        httpVersionMinor: minor,
        headers,
        rawHeaders,
      },
      rest,
    };
  }
}
