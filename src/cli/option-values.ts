/**
 * Parsers for option values. Each throws an Error whose message says what was expected; the argument
 * parser turns it into a usage error naming the option and the value.
 */

/** A TCP port, 0–65535 (0: the system picks a free one). */
export function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new Error('expected a port number from 0 to 65535');
  return Number(raw);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size in bytes: `1048576`, `64K`, `1.5M`, `2G` (K, M, G are KiB, MiB, GiB; case does not matter). */
export function parseByteSize(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = match === null ? undefined : SIZE_UNITS[match[2].toLowerCase()];
  if (match === null || unit === undefined) {
    throw new Error('expected a number of bytes, optionally with a K, M or G suffix (e.g. 65536, 64K, 1M)');
  }
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new Error('expected a whole number of bytes, at most 2^53 - 1');
  return bytes;
}

/** A URL path for the server: starts with "/". */
export function parsePath(raw: string): string {
  if (!raw.startsWith('/')) throw new Error('expected a path starting with "/"');
  return raw;
}

/** An HTTP token (RFC 9110 §5.6.2): header names and subprotocol names are tokens. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A subprotocol name. */
export function parseSubprotocol(raw: string): string {
  if (!TOKEN.test(raw)) throw new Error("expected a token (letters, digits and !#$%&'*+-.^_`|~)");
  return raw;
}

/** An HTTP header given as `Name: value`. */
export function parseHeader(raw: string): [name: string, value: string] {
  const colon = raw.indexOf(':');
  const name = colon === -1 ? '' : raw.slice(0, colon).trim();
  if (!TOKEN.test(name)) {
    throw new Error('expected a header as "Name: value" with a valid header name');
  }
  const value = raw.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new Error('a header value cannot contain CR, LF or NUL');
  return [name, value];
}

/** Any text that is not empty. */
export function parseText(raw: string): string {
  if (raw === '') throw new Error('expected a non-empty value');
  return raw;
}

/** A Redis URL: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
export function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected a URL such as redis://127.0.0.1:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error('expected a redis:// or rediss:// URL');
  }
  return raw;
}

/** A whole number from `min` up. */
export function parseCount(min: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
      throw new Error(`expected a whole number, at least ${min}`);
    }
    return Number(raw);
  };
}
