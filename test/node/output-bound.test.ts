// The output bound: a peer that sends without reading (a ping flood) is held back by TCP once more
// than readPauseBufferedAmount bytes wait to be sent, on the server and the client alike; nothing it
// sent is lost (every ping is answered once it reads again).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  acceptFor,
  client,
  closeRawServer,
  defer,
  keyOf,
  maskedFrame,
  next,
  rawServer,
  rawWebSocket,
  runCleanups,
  serve,
  type WebSocket,
  within,
} from './helpers.js';

afterEach(runCleanups);

const LIMIT = 256 * 1024;
/** What one read can add before reading stops: the pongs of one chunk (64 KiB) of pings. */
const ONE_READ = 64 * 1024;
const PAYLOAD = Buffer.alloc(125, 0x61);
/**
 * The same for a client, whose pongs are masked: each 127-byte ping read is answered with a 131-byte
 * Pong, so a full read of pings adds a little more than the read (seen: 329,596 > LIMIT + ONE_READ).
 */
const ONE_READ_OF_CLIENT_PONGS = Math.ceil(ONE_READ / (2 + PAYLOAD.length)) * (6 + PAYLOAD.length);

/** Calls `onHold` when the connection stops reading its transport (pause() on its socket). */
function watchHold(ws: WebSocket): EventEmitter {
  const events = new EventEmitter();
  const socket = ws._socket!;
  const pause = socket.pause.bind(socket);
  socket.pause = () => {
    events.emit('held');
    return pause();
  };
  return events;
}

/** Writes batches of frames until `stop` resolves; returns how many frames were written. */
async function flood(socket: Socket, frame: Buffer, stop: Promise<unknown>, maxBytes = 256 * 1024 * 1024) {
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  let frames = 0;
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  while (!stopped) {
    assert.ok(frames * frame.length < maxBytes, 'the peer kept reading: no bound');
    frames += 1000;
    if (!socket.write(batch)) await Promise.race([next(socket, 'drain', 60_000), stop]);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  // Reading stopped: the flood goes on (4 MiB more, held in this socket's buffer until it is read).
  for (let i = 0; i < 32; i++) socket.write(batch);
  return frames + 32 * 1000;
}

/** Counts the frames with `opcode` in a byte stream (any masking), until `count` arrived. */
function countFrames(socket: Socket, opcode: number, count: number): Promise<number> {
  return within(
    new Promise<number>((resolve) => {
      let buffered: Buffer = Buffer.alloc(0);
      let seen = 0;
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        let pos = 0;
        while (pos + 2 <= buffered.length) {
          const masked = (buffered[pos + 1] & 0x80) !== 0;
          const len = buffered[pos + 1] & 0x7f; // control frames: at most 125
          const end = pos + 2 + (masked ? 4 : 0) + len;
          if (end > buffered.length) break;
          if ((buffered[pos] & 0x0f) === opcode) seen++;
          pos = end;
        }
        buffered = buffered.subarray(pos);
        if (seen >= count) resolve(seen);
      });
      socket.resume();
    }),
    `${count} frames`,
    30_000,
  );
}

describe('output bound: a peer that does not read', () => {
  it('server: a ping flood from a client that never reads stops being read past readPauseBufferedAmount; every ping is answered once it reads', async () => {
    const s = await serve({ heartbeat: false, readPauseBufferedAmount: LIMIT });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    socket.pause(); // never reads: the Pongs pile up
    const [peer] = await connection;
    const hold = watchHold(peer);
    let pings = 0;
    let max = 0;
    peer.on('ping', () => {
      pings++;
      max = Math.max(max, peer.bufferedAmount);
    });
    const held = next(hold, 'held', 30_000);
    const sent = await flood(socket, maskedFrame(0x9, PAYLOAD), held);
    await held;
    assert.ok(pings < sent, 'reading stopped before every ping was read');
    // The client reads again: every ping it sent is answered, none is lost.
    const pongs = await countFrames(socket, 0xa, sent);
    assert.equal(pongs, sent);
    assert.equal(pings, sent);
    assert.ok(max <= LIMIT + ONE_READ, `and the bound held to the end: ${max}`);
  });

  it('client: a ping flood from a server that never reads is held back the same way', async () => {
    const floods: Promise<number>[] = [];
    let serverSocket: Socket | null = null;
    let holdClient: EventEmitter | null = null;
    const holding = new EventEmitter();
    const raw = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n\r\n`,
      );
      socket.pause();
      serverSocket = socket;
      const ping = Buffer.concat([Buffer.from([0x89, PAYLOAD.length]), PAYLOAD]);
      floods.push(flood(socket, ping, next(holding, 'held', 30_000)));
    });
    defer(() => closeRawServer(raw));
    const ws = client(`ws://127.0.0.1:${raw.port}`, { readPauseBufferedAmount: LIMIT });
    ws.on('error', () => {});
    let pings = 0;
    let max = 0;
    ws.on('ping', () => {
      pings++;
      max = Math.max(max, ws.bufferedAmount);
    });
    await next(ws, 'open');
    holdClient = watchHold(ws);
    holdClient.on('held', () => holding.emit('held'));
    const sent = await within(
      (async () => {
        while (floods.length === 0) await new Promise((resolve) => setImmediate(resolve));
        return floods[0];
      })(),
      'the flood',
      60_000,
    );
    assert.ok(pings < sent, 'reading stopped before every ping was read');
    const pongs = await countFrames(serverSocket!, 0xa, sent);
    assert.equal(pongs, sent);
    assert.equal(pings, sent);
    assert.ok(
      max <= LIMIT + ONE_READ_OF_CLIENT_PONGS,
      `at most the bound and the pongs of one read waited to be sent: ${max}`,
    );
  });
});
