// Helpers for the tests of SECURITY.md: a hostile peer over raw TCP on 127.0.0.1 (it sends exactly
// what the test builds, reads only when told), wskit servers on free ports, and waiting on events
// with a deadline (never sleeping). Frames and handshakes are built here, independently of src/.
import { createHash } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after } from 'node:test';
import { type ServerOptions, WebSocketServer } from '../../src/index.js';

export { EVENT_TIMEOUT, next, within } from '../node/helpers.js';

import { EVENT_TIMEOUT, next, within } from '../node/helpers.js';

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const ACCEPT = createHash('sha1')
  .update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
  .digest('base64');

/** A wskit server on 127.0.0.1 and a free port, closed (its clients terminated) after the test file. */
export async function serve(
  options: Omit<ServerOptions, 'port' | 'host'> = {},
): Promise<{ wss: WebSocketServer; port: number; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await next(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  after(() => closeServer(wss));
  return { wss, port, url: `ws://127.0.0.1:${port}` };
}

export async function closeServer(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients ?? []) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** A raw TCP connection to 127.0.0.1:port, connected; destroyed after the test file. */
export async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  after(() => socket.destroy());
  await next(socket, 'connect');
  return socket;
}

/** Everything a socket receives until the peer closes it. */
export function readAll(socket: Socket, ms = EVENT_TIMEOUT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return within(
    new Promise<Buffer>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks)))),
    'the peer to close the TCP connection',
    ms,
  );
}

/** A valid opening handshake request, with header overrides (null removes one) and extra lines. */
export function upgradeRequest(overrides: Record<string, string | null> = {}, extra = ''): string {
  const headers: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  let text = 'GET / HTTP/1.1\r\n';
  for (const [name, value] of Object.entries(headers)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}${extra}\r\n`;
}

/** Sends `request` on a new connection and returns the whole response (the server must close). */
export async function rawRequest(port: number, request: string | Buffer): Promise<string> {
  const socket = await rawConnect(port);
  const response = readAll(socket);
  socket.write(request);
  return (await response).toString('latin1');
}

/** The status code of an HTTP response. */
export function statusOf(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  if (match === null) throw new Error(`not an HTTP response: ${JSON.stringify(response.slice(0, 80))}`);
  return Number(match[1]);
}

/**
 * A raw client that completed the opening handshake (Accept checked) and does nothing else unless
 * told: it never answers pings and reads only through what the test attaches.
 */
export async function rawWebSocket(
  port: number,
  overrides: Record<string, string | null> = {},
  extra = '',
): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const socket = await rawConnect(port);
  socket.write(upgradeRequest(overrides, extra));
  let received = Buffer.alloc(0);
  for (;;) {
    const [chunk] = await next<[Buffer]>(socket, 'data');
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (end === -1) continue;
    const head = received.subarray(0, end).toString('latin1');
    if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
    if (!head.includes(`\r\nSec-WebSocket-Accept: ${ACCEPT}`)) throw new Error(`wrong Accept: ${head}`);
    return { socket, head, rest: received.subarray(end + 4) };
  }
}

/** A masked client frame (RFC 6455 §5.2). `first` sets FIN and RSV bits: default FIN. */
export function clientFrame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  first = 0x80,
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const lengthBytes = data.length < 126 ? 0 : data.length < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + data.length);
  frame[0] = first | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | data.length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(data.length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const at = 2 + lengthBytes;
  const mask = [0x3a, 0x91, 0x0c, 0x5e];
  for (let i = 0; i < 4; i++) frame[at + i] = mask[i];
  for (let i = 0; i < data.length; i++) frame[at + 4 + i] = data[i] ^ mask[i & 3];
  return frame;
}

/** The unmasked frames a server sent, from the bytes received (complete frames only). */
export function serverFrames(bytes: Buffer): { opcode: number; fin: boolean; payload: Buffer }[] {
  const frames: { opcode: number; fin: boolean; payload: Buffer }[] = [];
  let pos = 0;
  while (pos + 2 <= bytes.length) {
    let length = bytes[pos + 1] & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      if (at + 2 > bytes.length) break;
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (at + 8 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (at + length > bytes.length) break;
    frames.push({
      opcode: bytes[pos] & 0x0f,
      fin: (bytes[pos] & 0x80) !== 0,
      payload: bytes.subarray(at, at + length),
    });
    pos = at + length;
  }
  return frames;
}

/** The close code of a Close frame's payload (1005 when it has none). */
export function closeCodeOf(payload: Buffer): number {
  return payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
}

/** A raw TCP server that answers each request head with `respond`; closed after the test file. */
export async function rawServer(respond: (request: string, socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let request = '';
    const onData = (chunk: Buffer) => {
      request += chunk.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData);
      respond(request, socket);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** The Sec-WebSocket-Key of a request head, and the Accept value that answers it. */
export function acceptFor(request: string): string {
  const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}
