// The raw TCP peer of the server fuzz target: writes chunks with random delays, reads until the
// server closes (or a deadline passes), stops writing and ends its side once the server's Close came.
import { connect, type Socket } from 'node:net';
import type { Rng } from './prng.js';

/** How long the server may take to close a connection once it should. */
export const CLOSE_DEADLINE = 6000;

export interface Session {
  head: string;
  /** What came after the response head. */
  frames: Buffer;
  closedInTime: boolean;
}

/**
 * At most `max` chunks (each may be followed by a delay): cut points at random, or everything at once,
 * or the first bytes one at a time.
 */
export function socketChunks(rng: Rng, bytes: Buffer, max: number): Buffer[] {
  const r = rng.int(4);
  if (r === 0 || bytes.length < 2) return [bytes];
  const cuts = new Set<number>();
  const count = rng.range(1, Math.min(max, bytes.length - 1));
  if (r === 1) for (let i = 1; i <= count; i++) cuts.add(i);
  else for (let i = 0; i < count; i++) cuts.add(rng.range(1, bytes.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    chunks.push(bytes.subarray(prev, c));
    prev = c;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

function delay(rng: Rng): Promise<void> | null {
  const r = rng.float();
  if (r < 0.6) return null;
  if (r < 0.85) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, rng.int(4)));
}

/** Whether `bytes` (server to client, unmasked) holds a complete Close frame. */
function hasClose(bytes: Buffer): boolean {
  let pos = 0;
  while (bytes.length - pos >= 2) {
    let len = bytes[pos + 1] & 0x7f;
    let p = pos + 2;
    if (len === 126) {
      if (bytes.length - p < 2) return false;
      len = bytes.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (bytes.length - p < 8) return false;
      len = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    if ((bytes[pos] & 0x0f) === 8) return bytes.length - p >= len;
    pos = p + len;
  }
  return false;
}

/**
 * Sends `chunks` (with random delays) and reads until the server closes. Stops sending once the
 * server's Close arrives (and then ends our side); when `endAfter` is set, ends our side after the
 * last chunk.
 */
export async function session(port: number, chunks: Buffer[], rng: Rng, endAfter: boolean): Promise<Session> {
  const socket: Socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  let headEnd = -1;
  let all = Buffer.alloc(0);
  let serverClosed = false;
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      socket.end();
    }
  };
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(
      () => {
        socket.destroy();
        resolve(false);
      },
      CLOSE_DEADLINE + chunks.length * 5,
    );
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.on('error', () => {});
  socket.on('data', (data: Buffer) => {
    received.push(data);
    all = Buffer.concat([all, data]);
    if (headEnd === -1) headEnd = all.indexOf('\r\n\r\n');
    if (headEnd !== -1 && !serverClosed && hasClose(all.subarray(headEnd + 4))) {
      serverClosed = true;
      end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const chunk of chunks) {
    if (serverClosed || socket.destroyed) break;
    socket.write(chunk);
    const d = delay(rng);
    if (d !== null) await d;
  }
  if (endAfter) end();
  const closedInTime = await closed;
  const bytes = Buffer.concat(received);
  const at = bytes.indexOf('\r\n\r\n');
  return {
    head: at === -1 ? bytes.toString('latin1') : bytes.toString('latin1', 0, at),
    frames: at === -1 ? Buffer.alloc(0) : bytes.subarray(at + 4),
    closedInTime,
  };
}

export function upgradeRequest(key: string, deflate: boolean): string {
  const lines = [
    'GET /fuzz HTTP/1.1',
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (deflate) lines.push('Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function statusOf(head: string): number | null {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
  return m === null ? null : Number(m[1]);
}
