// A model of the request-head parser for its fuzz target: the rules http-request-head.ts documents,
// restated with split() and regular expressions (and Node's rules for joining repeated fields).
import type { RequestHead } from '../../src/protocol/http-request-head.js';

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

export type ModelResult =
  | { state: 'incomplete' }
  | { state: 'done'; head: RequestHead; restAt: number }
  | { state: 'error'; status: number };

const TCHAR_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/([0-9])\.([0-9])$/;
/** What the parser trims from a value: OWS, and what String.prototype.trim() removes (VT, FF, NBSP). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: VT and FF are trimmed
const TRIM = /^[ \t\x0b\x0c\xa0]+|[ \t\x0b\x0c\xa0]+$/g;

/** The rules of http-request-head.ts restated with split() and regular expressions. */
export function modelParse(bytes: Buffer, maxHeaderSize: number, maxHeadersCount: number): ModelResult {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1)
    return bytes.length > maxHeaderSize ? { state: 'error', status: 431 } : { state: 'incomplete' };
  if (end + 4 > maxHeaderSize) return { state: 'error', status: 431 };
  let text = bytes.toString('latin1', 0, end);
  if (text.startsWith('\r\n')) text = text.slice(2);
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (m === null) return { state: 'error', status: 400 };
  const headers: Record<string, string | string[]> = Object.create(null);
  const rawHeaders: string[] = [];
  const fields = lines.slice(1);
  for (let i = 0; i < fields.length; i++) {
    if (i + 1 > maxHeadersCount) return { state: 'error', status: 431 };
    const line = fields[i];
    if (line.startsWith(' ') || line.startsWith('\t')) return { state: 'error', status: 400 };
    const colon = line.indexOf(':');
    if (colon < 1) return { state: 'error', status: 400 };
    const name = line.slice(0, colon);
    if (!TCHAR_RE.test(name)) return { state: 'error', status: 400 };
    const value = line.slice(colon + 1).replace(TRIM, '');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return { state: 'error', status: 400 };
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    if (!(key in headers)) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (key === 'host') return { state: 'error', status: 400 };
    else if (key === 'set-cookie') (headers[key] as string[]).push(value);
    else if (!SINGLETONS.has(key)) headers[key] = `${headers[key]}${key === 'cookie' ? '; ' : ', '}${value}`;
  }
  if ('content-length' in headers && headers['content-length'] !== '0')
    return { state: 'error', status: 400 };
  if ('transfer-encoding' in headers) return { state: 'error', status: 400 };
  const major = Number(m[3]);
  const minor = Number(m[4]);
  return {
    state: 'done',
    head: {
      method: m[1],
      url: m[2],
      httpVersion: `${major}.${minor}`,
      httpVersionMajor: major,
      httpVersionMinor: minor,
      headers,
      rawHeaders,
    },
    restAt: end + 4,
  };
}
