import { createError, type WebSocketError } from './errors.js';

/** RFC 7230 tchar: the characters a token may hold. */
const TCHAR = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    table[c.charCodeAt(0)] = 1;
  }
  return table;
})();

export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTokenChar(value.charCodeAt(i))) return false;
  return true;
}

/** Whether a comma-separated header value (e.g. Connection) contains `token`, ignoring case. */
export function headerHasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined || value === null) return false;
  const wanted = token.toLowerCase();
  if (typeof value === 'string') return listHasToken(value, wanted);
  // A request built by hand may carry a number or another value: read as its text, never thrown on.
  if (!Array.isArray(value)) return listHasToken(String(value), wanted);
  for (const v of value) if (listHasToken(String(v), wanted)) return true;
  return false;
}

/** One pass over `list` by index, without splitting it: the handshake asks this several times. */
function listHasToken(list: string, wanted: string): boolean {
  const n = list.length;
  let start = 0;
  while (start <= n) {
    let end = list.indexOf(',', start);
    if (end === -1) end = n;
    // The element without what String.prototype.trim() removes (spaces and tabs, in a header).
    let s = start;
    let e = end;
    while (s < e && isTrimmedSpace(list.charCodeAt(s))) s++;
    while (e > s && isTrimmedSpace(list.charCodeAt(e - 1))) e--;
    if (e - s === wanted.length && equalsIgnoringAsciiCase(list, s, wanted)) return true;
    start = end + 1;
  }
  return false;
}

function isTrimmedSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0x0a || c === 0x0d;
}

/** Whether list[at, at + lower.length) equals `lower` (lower case) with A-Z folded to a-z. */
function equalsIgnoringAsciiCase(list: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = list.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Parses a Sec-WebSocket-Protocol value: a comma-separated list of distinct tokens (RFC 6455 §4.1).
 * Throws WS_ERR_INVALID_PROTOCOL_HEADER ('Invalid Sec-WebSocket-Protocol header', the element in
 * `detail`) on an empty element, a non-token character or a duplicate.
 */
export function parseProtocolList(value: string): string[] {
  const result: string[] = [];
  const seen = new Set<string>();
  for (const raw of value.split(',')) {
    const protocol = raw.trim();
    if (!isToken(protocol)) {
      throw createError('WS_ERR_INVALID_PROTOCOL_HEADER', 'Invalid Sec-WebSocket-Protocol header', {
        status: 400,
        detail: `invalid subprotocol name ${JSON.stringify(protocol)}`,
      });
    }
    if (seen.has(protocol)) {
      throw createError('WS_ERR_INVALID_PROTOCOL_HEADER', 'Invalid Sec-WebSocket-Protocol header', {
        status: 400,
        detail: `subprotocol ${JSON.stringify(protocol)} listed twice`,
      });
    }
    seen.add(protocol);
    result.push(protocol);
  }
  return result;
}

/** One extension in a Sec-WebSocket-Extensions header, with its parameters in order. */
export interface ExtensionOffer {
  name: string;
  /** [name, value] pairs; a parameter without a value has the value `true`. */
  params: Array<[string, string | true]>;
}

/** ws's text as the message; what is wrong, and where, as the detail. */
function extensionError(detail: string): WebSocketError {
  return createError('WS_ERR_INVALID_EXTENSION_HEADER', 'Invalid Sec-WebSocket-Extensions header', {
    status: 400,
    detail,
  });
}

/**
 * Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1): `name *( ";" param [ "=" value ] )` repeated
 * with commas, values as tokens or quoted strings whose unescaped content is a token. One pass over the
 * input, so hostile headers cost linear time. Throws WS_ERR_INVALID_EXTENSION_HEADER ('Invalid
 * Sec-WebSocket-Extensions header', where it went wrong in `detail`).
 */
export function parseExtensions(header: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const n = header.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i++;
  };
  const readToken = (what: string): string => {
    const start = i;
    while (i < n && isTokenChar(header.charCodeAt(i))) i++;
    if (i === start) {
      throw extensionError(
        i < n
          ? `unexpected character at index ${i} where ${what} was expected`
          : `${what} expected at the end`,
      );
    }
    return header.slice(start, i);
  };
  for (;;) {
    skipSpace();
    const offer: ExtensionOffer = { name: readToken('an extension name'), params: [] };
    skipSpace();
    while (i < n && header.charCodeAt(i) === 0x3b /* ; */) {
      i++;
      skipSpace();
      const name = readToken('a parameter name');
      skipSpace();
      let value: string | true = true;
      if (i < n && header.charCodeAt(i) === 0x3d /* = */) {
        i++;
        skipSpace();
        if (i < n && header.charCodeAt(i) === 0x22 /* " */) {
          i++;
          let unquoted = '';
          for (;;) {
            if (i >= n) throw extensionError('unterminated quoted string');
            const c = header.charCodeAt(i);
            if (c === 0x22) break;
            if (c === 0x5c /* \ */) {
              i++;
              if (i >= n) throw extensionError('unterminated quoted string');
            }
            if (!isTokenChar(header.charCodeAt(i))) {
              throw extensionError(`quoted value of ${name} is not a token`);
            }
            unquoted += header[i];
            i++;
          }
          i++;
          if (unquoted.length === 0) throw extensionError(`empty value for ${name}`);
          value = unquoted;
        } else {
          value = readToken(`a value for ${name}`);
        }
        skipSpace();
      }
      offer.params.push([name, value]);
    }
    offers.push(offer);
    if (i >= n) return offers;
    if (header.charCodeAt(i) !== 0x2c /* , */) throw extensionError(`unexpected character at index ${i}`);
    i++;
  }
}

/** Formats extensions for a Sec-WebSocket-Extensions header. */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers
    .map((offer) => [offer.name, ...offer.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join('; '))
    .join(', ');
}
