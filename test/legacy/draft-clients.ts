// Clients written from the drafts, over raw sockets, independent of src/: a hixie-76 client
// (draft-hixie-thewebsocketprotocol-76 §4.1: the keys, the 8 bytes, the MD5 check of the answer, its
// framing) and a hybi-08 one (draft-ietf-hybi-thewebsocketprotocol-08 §4.1: Sec-WebSocket-Origin,
// version 8, the framing RFC 6455 kept).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { EVENT_TIMEOUT, next, within } from '../node/helpers.js';

/** Collects what a socket receives; waits (with a deadline) for what the test expects. */
export class ByteReader {
  buffer = Buffer.alloc(0);
  ended = false;
  private wake: (() => void) | null = null;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  /** Waits until `test(buffer)` returns a value other than undefined, and returns it. */
  async until<T>(test: (buffer: Buffer) => T | undefined, what: string, ms = EVENT_TIMEOUT): Promise<T> {
    const deadline = Date.now() + ms;
    while (true) {
      const value = test(this.buffer);
      if (value !== undefined) return value;
      if (this.ended) throw new Error(`the connection closed before ${what}`);
      await within(
        new Promise<void>((resolve) => {
          this.wake = resolve;
        }),
        what,
        Math.max(1, deadline - Date.now()),
      );
      this.wake = null;
    }
  }

  /** Takes `n` bytes (waiting for them). */
  async take(n: number, what = `${n} bytes`): Promise<Buffer> {
    await this.until((b) => (b.length >= n ? true : undefined), what);
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Takes an HTTP head (up to the blank line) as text. */
  async head(): Promise<string> {
    const end = await this.until((b) => {
      const i = b.indexOf('\r\n\r\n');
      return i === -1 ? undefined : i;
    }, 'a response head');
    const head = this.buffer.subarray(0, end).toString('latin1');
    this.buffer = this.buffer.subarray(end + 4);
    return head;
  }

  /** Waits for the peer to close the TCP connection; returns what was left unread. */
  async closed(): Promise<Buffer> {
    await this.until((_b) => (this.ended ? true : undefined), 'the peer to close the connection');
    return this.buffer;
  }
}

export async function rawConnection(port: number): Promise<{ socket: Socket; reader: ByteReader }> {
  const socket = connect(port, '127.0.0.1');
  const reader = new ByteReader(socket);
  await next(socket, 'connect');
  return { socket, reader };
}

/** A TLS connection to 127.0.0.1:`port`, the server's certificate checked against `ca`. */
export async function rawTlsConnection(
  port: number,
  ca: Buffer,
): Promise<{ socket: Socket; reader: ByteReader }> {
  const socket = tlsConnect({ port, host: '127.0.0.1', ca });
  const reader = new ByteReader(socket);
  await next(socket, 'secureConnect');
  return { socket, reader };
}

// ---- hixie-76 ----

/** A Sec-WebSocket-Key value as a draft-76 client makes one (§4.1 steps 16-22), and its number. */
export function hixie76Key(): { key: string; number: number } {
  const spaces = randomInt(1, 13);
  const max = Math.floor(4294967295 / spaces);
  const number = randomInt(0, max + 1);
  const product = number * spaces;
  const chars = product.toString().split('');
  const noise = '!"#$%&\'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
  for (let i = randomInt(1, 13); i > 0; i--) {
    chars.splice(randomInt(0, chars.length + 1), 0, noise[randomInt(0, noise.length)]);
  }
  for (let i = 0; i < spaces; i++) chars.splice(randomInt(1, chars.length), 0, ' ');
  return { key: chars.join(''), number };
}

/** The answer the server must give: MD5 of the two numbers (32-bit big-endian) and the 8 bytes. */
export function hixie76Expected(number1: number, number2: number, key3: Buffer): Buffer {
  const challenge = Buffer.alloc(16);
  challenge.writeUInt32BE(number1, 0);
  challenge.writeUInt32BE(number2, 4);
  key3.copy(challenge, 8);
  return createHash('md5').update(challenge).digest();
}

export interface Hixie76Request {
  path?: string;
  host?: string;
  origin?: string;
  protocol?: string;
  /** Send the 8 bytes in a packet of their own, once this resolves (the server has the head). */
  key3After?: Promise<unknown>;
  /** Connect over TLS (wss://), trusting this certificate. */
  tlsCa?: Buffer;
}

/** The request head and the 8 bytes, with the answer they call for. */
export function hixie76Request(options: Hixie76Request = {}): {
  head: string;
  key3: Buffer;
  expected: Buffer;
} {
  const k1 = hixie76Key();
  const k2 = hixie76Key();
  const key3 = randomBytes(8);
  let head =
    `GET ${options.path ?? '/demo'} HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n` +
    `Host: ${options.host ?? 'example.com'}\r\nOrigin: ${options.origin ?? 'http://example.com'}\r\n` +
    `Sec-WebSocket-Key1: ${k1.key}\r\nSec-WebSocket-Key2: ${k2.key}\r\n`;
  if (options.protocol !== undefined) head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  head += '\r\n';
  return { head, key3, expected: hixie76Expected(k1.number, k2.number, key3) };
}

/** Opens a hixie-76 connection; returns the response head (checked by the caller) and the reader. */
export async function hixie76Connect(
  port: number,
  options: Hixie76Request = {},
): Promise<{ socket: Socket; reader: ByteReader; head: string; answer: Buffer; expected: Buffer }> {
  const { socket, reader } =
    options.tlsCa === undefined ? await rawConnection(port) : await rawTlsConnection(port, options.tlsCa);
  const request = hixie76Request(options);
  if (options.key3After !== undefined) {
    socket.write(request.head);
    await within(options.key3After, 'the server to have the request head');
    socket.write(request.key3);
  } else {
    socket.write(Buffer.concat([Buffer.from(request.head, 'latin1'), request.key3]));
  }
  const head = await reader.head();
  const answer = head.startsWith('HTTP/1.1 101')
    ? await reader.take(16, 'the 16-byte answer')
    : Buffer.alloc(0);
  return { socket, reader, head, answer, expected: request.expected };
}

/** A draft-76 text frame: 0x00, UTF-8, 0xFF. */
export function hixie76Text(text: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(text, 'utf8'), Buffer.from([0xff])]);
}

/** Reads one text frame from the reader (its text), or 'close' for 0xFF 0x00. */
export async function hixie76Read(reader: ByteReader): Promise<string | 'close'> {
  const [type] = await reader.take(1, 'a frame type byte');
  if (type === 0xff) {
    const [length] = await reader.take(1, 'the closing frame');
    if (length !== 0x00) throw new Error(`0xFF followed by ${length}`);
    return 'close';
  }
  if (type !== 0x00) throw new Error(`unexpected frame type ${type}`);
  const end = await reader.until((b) => {
    const i = b.indexOf(0xff);
    return i === -1 ? undefined : i;
  }, 'the end of a text frame');
  const text = reader.buffer.subarray(0, end).toString('utf8');
  reader.buffer = reader.buffer.subarray(end + 1);
  return text;
}

/** The header value of a response head. */
export function headerOf(head: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head);
  return match?.[1].trim();
}

// ---- hybi-08 ----

export const HYBI_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const HYBI_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A hybi-07/08 opening handshake request (§4.1 of the draft). */
export function hybiRequest(version: number, origin = 'http://example.com', path = '/chat'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${HYBI_KEY}\r\nSec-WebSocket-Origin: ${origin}\r\n` +
    `Sec-WebSocket-Version: ${version}\r\n\r\n`
  );
}

/** A masked frame, as a hybi-08 client sends (§4.2 of the draft: the same frame as RFC 6455's). */
export function hybiMaskedFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length > 125) throw new Error('short frames only');
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + data.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | data.length;
  mask.copy(out, 2);
  for (let i = 0; i < data.length; i++) out[6 + i] = data[i] ^ mask[i & 3];
  return out;
}

/** Reads one short unmasked frame from the server. */
export async function hybiReadFrame(reader: ByteReader): Promise<{ opcode: number; payload: Buffer }> {
  const header = await reader.take(2, 'a frame header');
  if ((header[1] & 0x80) !== 0) throw new Error('a masked frame from the server');
  const length = header[1] & 0x7f;
  if (length > 125) throw new Error('short frames only');
  return { opcode: header[0] & 0x0f, payload: await reader.take(length, 'a frame payload') };
}
