// Helpers for the end-to-end tests over loopback: servers on 127.0.0.1 with port 0, waiting on events
// with a deadline (never sleeping), raw TCP peers for what a well-behaved library would never send.
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import { WebSocketServer as WsServer, WebSocket as WsWebSocket } from 'ws';
import { type ServerOptions, WebSocket, WebSocketServer } from '../../src/index.js';

/** The deadline for any single event a test waits for. */
export const EVENT_TIMEOUT = 5_000;

/** Resolves with the event's arguments; rejects when it does not come within `ms`. */
export async function next<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  ms = EVENT_TIMEOUT,
): Promise<T> {
  return (await once(emitter, event, { signal: AbortSignal.timeout(ms) })) as unknown as T;
}

/** A promise that settles within `ms` or rejects naming what it was waiting for. */
export function within<T>(promise: Promise<T>, what: string, ms = EVENT_TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** The code and reason of a WebSocket's (wskit's or ws's) 'close' event. */
export async function closed(ws: EventEmitter, ms = EVENT_TIMEOUT): Promise<CloseInfo> {
  const [code, reason] = await next<[number, Buffer]>(ws, 'close', ms);
  return { code, reason: reason.toString() };
}

/** Records a socket's 'close' as soon as it happens, so that it can be awaited later (with a deadline). */
export function recordClose(ws: EventEmitter, ms = EVENT_TIMEOUT): Promise<CloseInfo> {
  return within(
    new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    }),
    "a 'close' event",
    ms,
  );
}

export function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}

/** A wskit server on 127.0.0.1, listening on a free port. */
export async function wskitServer(
  options: Omit<ServerOptions, 'port' | 'host'> = {},
): Promise<{ wss: WebSocketServer; port: number; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await next(wss, 'listening');
  const port = portOf(wss);
  return { wss, port, url: `ws://127.0.0.1:${port}` };
}

/** A ws server on 127.0.0.1, listening on a free port. */
export async function wsServer(
  options: Omit<ConstructorParameters<typeof WsServer>[0] & object, 'port' | 'host'> = {},
): Promise<{ wss: WsServer; port: number; url: string }> {
  const wss = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  await next(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return { wss, port, url: `ws://127.0.0.1:${port}` };
}

/** Closes a server (wskit's or ws's), terminating what is still connected so that nothing lingers. */
export async function closeServer(wss: WebSocketServer | WsServer): Promise<void> {
  for (const ws of wss.clients ?? []) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** Terminates client sockets still open at the end of a test. */
export function terminate(...sockets: (WebSocket | WsWebSocket | Socket | null | undefined)[]): void {
  for (const s of sockets) {
    if (s === null || s === undefined) continue;
    if ('terminate' in s) s.terminate();
    else s.destroy();
  }
}

/** A plain HTTP server on 127.0.0.1 with a free port. */
export async function httpServer(handler?: Parameters<typeof createHttpServer>[1]): Promise<{
  server: HttpServer;
  port: number;
}> {
  const server = createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  return { server, port: portOf(server) };
}

export async function closeHttp(server: HttpServer | Server): Promise<void> {
  (server as HttpServer).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A raw TCP connection to 127.0.0.1:port, connected. */
export async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await next(socket, 'connect');
  return socket;
}

/** Everything a raw socket receives until the peer closes it (or it errors). */
export function readAll(socket: Socket, ms = EVENT_TIMEOUT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return within(
    new Promise<Buffer>((resolve) => {
      socket.once('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', () => {});
    }),
    'the peer to close the TCP connection',
    ms,
  );
}

/** Sends raw bytes as an HTTP request and returns the whole response (the server must close). */
export async function rawRequest(port: number, bytes: string | Buffer): Promise<string> {
  const socket = await rawConnect(port);
  const response = readAll(socket);
  socket.write(bytes);
  return (await response).toString('latin1');
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** A valid opening handshake request, with header overrides (null removes a header). */
export function upgradeRequest(
  overrides: Record<string, string | null> = {},
  requestLine = 'GET / HTTP/1.1',
): string {
  const headers: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  let text = `${requestLine}\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/**
 * Opens a raw TCP connection and completes a valid opening handshake by hand: a "client" that does
 * only what the test makes it do (never answers pings, never reads unless told).
 */
export async function rawWebSocket(
  port: number,
  path = '/',
  headers: Record<string, string | null> = {},
): Promise<{ socket: Socket; rest: Buffer; head: string }> {
  const socket = await rawConnect(port);
  socket.write(upgradeRequest(headers, `GET ${path} HTTP/1.1`));
  let received = Buffer.alloc(0);
  while (true) {
    const [chunk] = await next<[Buffer]>(socket, 'data');
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (end !== -1) {
      const head = received.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head}`);
      if (!head.includes(`Sec-WebSocket-Accept: ${ACCEPT}`)) throw new Error(`bad accept: ${head}`);
      return { socket, rest: received.subarray(end + 4), head };
    }
  }
}

/** A masked client frame (RFC 6455 §5.2), built independently of src/. */
export function maskedFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  let header: Buffer;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

/** Decodes unmasked server frames from a buffer (complete frames only). */
export function serverFrames(bytes: Buffer): { opcode: number; fin: boolean; payload: Buffer }[] {
  const frames: { opcode: number; fin: boolean; payload: Buffer }[] = [];
  let pos = 0;
  while (pos + 2 <= bytes.length) {
    const b0 = bytes[pos];
    let len = bytes[pos + 1] & 0x7f;
    let at = pos + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > bytes.length) break;
    frames.push({ opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, payload: bytes.subarray(at, at + len) });
    pos = at + len;
  }
  return frames;
}

/** A raw TCP server that answers each connection with `respond` (for the client's handshake errors). */
export async function rawServer(
  respond: (request: string, socket: Socket) => void,
): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let request = '';
    const onData = (chunk: Buffer) => {
      request += chunk.toString('latin1');
      if (request.includes('\r\n\r\n')) {
        socket.removeListener('data', onData);
        respond(request, socket);
      }
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  return { server, port: portOf(server), sockets };
}

export async function closeRawServer(raw: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of raw.sockets) s.destroy();
  await new Promise<void>((resolve) => raw.server.close(() => resolve()));
}

/** The Sec-WebSocket-Key of a raw request text. */
export function keyOf(request: string): string {
  const match = /^sec-websocket-key:\s*(\S+)/im.exec(request);
  if (match === null) throw new Error('no Sec-WebSocket-Key in the request');
  return match[1];
}

export { WebSocket, WebSocketServer, WsServer, WsWebSocket };

const cleanups: (() => unknown)[] = [];

/** Registers something to undo after the current test (run by runCleanups, in reverse order). */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

/** For afterEach: closes what the test registered with defer(). */
export async function runCleanups(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** A wskit server closed after the test. */
export async function serve(options: Omit<ServerOptions, 'port' | 'host'> = {}) {
  const s = await wskitServer(options);
  defer(() => closeServer(s.wss));
  return s;
}

/** A wskit client terminated after the test. */
export function client(...args: ConstructorParameters<typeof WebSocket>): WebSocket {
  const ws = new WebSocket(...args);
  defer(() => ws.terminate());
  return ws;
}

/** A wskit client, open, and the server side of its connection. */
export async function connected(
  s: { wss: WebSocketServer; url: string },
  path = '',
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<{ ws: WebSocket; peer: WebSocket; req: import('node:http').IncomingMessage }> {
  const connection = next<[WebSocket, import('node:http').IncomingMessage]>(s.wss, 'connection');
  const ws = client(`${s.url}${path}`, options);
  await next(ws, 'open');
  const [peer, req] = await connection;
  return { ws, peer, req };
}

/** The response to a refused handshake, as the client's 'unexpected-response' sees it. */
export async function refusal(
  ws: WebSocket,
): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }> {
  const [, res] = await next<[unknown, import('node:http').IncomingMessage]>(ws, 'unexpected-response');
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
}
