import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { RefusedUpgrade, UpgradeRequest } from './server-handshake.js';

/**
 * The opening handshake of draft-hixie-thewebsocketprotocol-76 (2010: Chrome 6-13, Safari 5, Opera
 * 11, Firefox 4 betas), server side. The client sends Sec-WebSocket-Key1/Key2 and 8 bytes after the
 * request head (its "key3"); the server proves it read them with the MD5 of the two key numbers and
 * those bytes. Written from the draft (§1.3, §5.2); see docs/legacy-protocols.md for what it lacks.
 */

/** The 8 bytes of request body a hixie-76 client sends after its head. */
export const HIXIE76_KEY3_LENGTH = 8;

/** Whether a request is a hixie-76 opening handshake: both keys, and no RFC 6455 key or version. */
export function isHixie76Request(headers: UpgradeRequest['headers']): boolean {
  return (
    headers['sec-websocket-key1'] !== undefined &&
    headers['sec-websocket-key2'] !== undefined &&
    headers['sec-websocket-key'] === undefined &&
    headers['sec-websocket-version'] === undefined
  );
}

export interface AcceptedHixie76 {
  ok: true;
  /** The two key numbers: a key's digits as a number, divided by its count of spaces. */
  key1: number;
  key2: number;
  /** The Origin header ('null' when absent: the response must echo one). */
  origin: string;
  /** The Host header, for Sec-WebSocket-Location. */
  host: string;
  /** The subprotocol offered (draft 76 has one value, not a list), if any. */
  protocols: string[];
}

/** Printable ASCII and space only: what the response may echo without any risk of injection. */
const PRINTABLE = /^[\x20-\x7e]*$/;

function single(value: unknown): string | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value)) return value.join(', ');
  return value === null ? undefined : String(value);
}

function refuse(status: number, reason: string): RefusedUpgrade {
  return { ok: false, status, reason, headers: {} };
}

/**
 * The number a Sec-WebSocket-Key1/Key2 carries (draft 76 §5.2): its digits read as one decimal number,
 * divided by the count of its spaces; null for a key with no space, a number that is not a multiple
 * of them, or one past 32 bits (a client made it as a 32-bit number times the spaces).
 */
export function hixie76KeyNumber(key: string): number | null {
  let digits = '';
  let spaces = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits += key[i];
    else if (c === 0x20) spaces++;
  }
  if (spaces === 0 || digits.length === 0 || digits.length > 10) return null;
  const number = Number(digits);
  if (number > 0xffffffff || number % spaces !== 0) return null;
  return number / spaces;
}

/**
 * Checks a hixie-76 request head: GET, Upgrade: WebSocket, Connection: Upgrade, Host, two valid keys.
 * Never throws; a refusal has the HTTP status (hixie-76 clients only look for the 101).
 */
export function checkHixie76Request(req: UpgradeRequest): AcceptedHixie76 | RefusedUpgrade {
  if (req.method !== undefined && req.method !== 'GET') {
    return refuse(405, `Invalid HTTP method ${req.method}: the opening handshake is a GET`);
  }
  const h = req.headers;
  const upgrade = single(h.upgrade)?.trim().toLowerCase();
  if (upgrade !== 'websocket') return refuse(400, 'Invalid Upgrade header: expected "WebSocket"');
  const connection = single(h.connection)?.toLowerCase() ?? '';
  if (!connection.split(',').some((token) => token.trim() === 'upgrade')) {
    return refuse(400, 'Missing or invalid Connection header: expected "Upgrade"');
  }
  const host = single(h.host);
  if (!host || !PRINTABLE.test(host)) return refuse(400, 'Missing or invalid Host header');
  const key1 = hixie76KeyNumber(single(h['sec-websocket-key1']) ?? '');
  const key2 = hixie76KeyNumber(single(h['sec-websocket-key2']) ?? '');
  if (key1 === null || key2 === null) {
    return refuse(
      400,
      'Invalid Sec-WebSocket-Key1 or Sec-WebSocket-Key2 header: expected digits and spaces whose number divides by the spaces (draft-hixie-76 §5.2)',
    );
  }
  const origin = single(h.origin) ?? 'null';
  if (!PRINTABLE.test(origin)) return refuse(400, 'Invalid Origin header');
  const protocol = single(h['sec-websocket-protocol']);
  if (protocol !== undefined && (protocol === '' || !PRINTABLE.test(protocol))) {
    return refuse(400, 'Invalid Sec-WebSocket-Protocol header');
  }
  return { ok: true, key1, key2, origin, host, protocols: protocol === undefined ? [] : [protocol] };
}

/** The 16 bytes the server answers with: MD5(key1 as 32-bit big-endian, key2 likewise, key3). */
export function hixie76Challenge(key1: number, key2: number, key3: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(16);
  input.writeUInt32BE(key1, 0);
  input.writeUInt32BE(key2, 4);
  input.set(key3.subarray(0, HIXIE76_KEY3_LENGTH), 8);
  return createHash('md5').update(input).digest();
}

export interface Hixie76ResponseOptions {
  key1: number;
  key2: number;
  key3: Uint8Array;
  origin: string;
  /** The ws:// or wss:// URL the client connected to (Sec-WebSocket-Location). */
  location: string;
  /** The subprotocol chosen, if any (the one the client offered). */
  protocol?: string | undefined;
}

/** The whole response: the 101 head (draft 76 §5.2) and the 16-byte challenge answer after it. */
export function hixie76Response(options: Hixie76ResponseOptions): Buffer {
  let head =
    'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Origin: ${options.origin}\r\nSec-WebSocket-Location: ${options.location}\r\n`;
  if (options.protocol) head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  const challenge = hixie76Challenge(options.key1, options.key2, options.key3);
  return Buffer.concat([headBytes, challenge], headBytes.length + challenge.length);
}

/** Sec-WebSocket-Location's value: the scheme by the transport, the Host and the request target. */
export function hixie76Location(secure: boolean, host: string, url: string | undefined): string {
  const target = url === undefined || url === '' ? '/' : url;
  return `${secure ? 'wss' : 'ws'}://${host}${PRINTABLE.test(target) ? target : encodeURI(target)}`;
}
