// Backpressure: send() returns false past highWaterMark and 'drain' follows once the buffer empties;
// a peer that stops reading is closed with 1008 once more than maxBufferedAmount bytes wait.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  connected,
  defer,
  next,
  rawWebSocket,
  recordClose,
  runCleanups,
  serve,
  serverFrames,
  WebSocket,
  within,
} from './helpers.js';

afterEach(runCleanups);

describe('highWaterMark and drain', () => {
  it('send() is true under highWaterMark, false past it, and drain fires once all is written', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    assert.equal(peer.send('small'), true);
    const received = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => d.length > 5 && resolve()),
    );
    assert.equal(peer.send(Buffer.alloc(64 * 1024)), false, 'past the default 16 KiB');
    await next(peer, 'drain');
    assert.equal(peer.bufferedAmount, 0);
    await within(received, 'the big message');
  });

  it('the highWaterMark option sets the threshold (client side too)', async () => {
    const s = await serve();
    const { ws } = await connected(s, '', { highWaterMark: 100 });
    assert.equal(ws.send(Buffer.alloc(50)), true);
    assert.equal(ws.send(Buffer.alloc(60)), false, '50 + 60 bytes and headers queued in one tick');
    await next(ws, 'drain');
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.send(Buffer.alloc(50)), true);
  });

  it('drain waits for a slow reader', async () => {
    const s = await serve({ heartbeat: false });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    socket.pause();
    const [peer] = await connection;
    // Fill the kernel buffers: until the socket itself holds bytes it cannot write.
    const chunk = Buffer.alloc(256 * 1024);
    let sent = 0;
    while (peer.bufferedAmount < 1024 * 1024 && sent < 256 * 1024 * 1024) {
      assert.equal(peer.send(chunk), false);
      sent += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(peer.bufferedAmount >= 1024 * 1024, 'bytes are stuck behind the paused reader');
    let drained = false;
    peer.on('drain', () => {
      drained = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(drained, false, 'no drain while the bytes are stuck');
    const drain = next(peer, 'drain');
    socket.resume();
    await drain;
    assert.equal(peer.bufferedAmount, 0);
  });
});

describe('maxBufferedAmount', () => {
  it('a peer that stops reading is closed with 1008 once the limit is passed', async () => {
    const limit = 1024 * 1024;
    const s = await serve({ heartbeat: false, maxBufferedAmount: limit, closeTimeout: 2000 });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    socket.pause();
    const [peer] = await connection;
    const error = next<[Error & { code?: string; closeCode?: number }]>(peer, 'error');
    const closed = recordClose(peer, 10_000);
    let stopped = false;
    error.then(() => {
      stopped = true;
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const outcomes: Promise<Error | null | undefined>[] = [];
    while (!stopped && sent < 256 * 1024 * 1024) {
      outcomes.push(new Promise((resolve) => peer.send(chunk, resolve)));
      sent += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const last = await within(outcomes[outcomes.length - 1], 'the callback of the send over the limit');
    assert.equal((last as { code?: string } | null)?.code, 'WS_ERR_BACKPRESSURE_LIMIT');
    const [err] = await error;
    assert.equal(err.code, 'WS_ERR_BACKPRESSURE_LIMIT');
    assert.equal(err.closeCode, 1008);
    assert.equal(peer.readyState, WebSocket.CLOSING);
    assert.equal(peer.send('more'), false, 'nothing more is queued');

    // The reader wakes up: whole frames, then the Close 1008, then the end of the stream.
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = next(socket, 'end', 10_000);
    socket.resume();
    await ended;
    const frames = serverFrames(Buffer.concat(chunks));
    const closeFrame = frames[frames.length - 1];
    assert.equal(closeFrame.opcode, 0x8);
    assert.equal(closeFrame.payload.readUInt16BE(0), 1008);
    assert.ok(frames.slice(0, -1).every((f) => f.opcode === 0x2 && f.payload.length === chunk.length));
    socket.end();
    // The peer sent no Close: 1006 (RFC 6455 §7.1.5); 1008 is the code sent, and the error's closeCode.
    assert.equal((await closed).code, 1006);
    // Every send that called back without an error was delivered; the others were dropped.
    const results = await within(Promise.all(outcomes), 'every send callback');
    const delivered = results.filter((err) => !err).length;
    assert.equal(delivered, frames.length - 1);
  });
});
