// toWebStreams(ws): a connection (server side, or any open WebSocket) as a ReadableStream and a
// WritableStream, with backpressure both ways measured by the paused state and bufferedAmount.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { toWebStreams, WebSocket as WskitWebSocket } from '../../src/index.js';
import {
  client,
  connected,
  next,
  recordClose,
  runCleanups,
  serve,
  type WebSocket,
  within,
} from '../node/helpers.js';

afterEach(runCleanups);

const immediate = () => new Promise((resolve) => setImmediate(resolve));

describe('toWebStreams', () => {
  it('a server-side readable piped into its writable is an echo server, in order', async () => {
    const s = await serve();
    s.wss.on('connection', (ws: WebSocket) => {
      const { readable, writable } = toWebStreams(ws);
      readable.pipeTo(writable).catch(() => {});
    });
    const ws = client(s.url);
    await next(ws, 'open');
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer, isBinary: boolean) => {
        received.push(isBinary ? `bin:${d.length}` : d.toString());
        if (received.length === 200) resolve();
      }),
    );
    for (let i = 0; i < 100; i++) {
      ws.send(`m${i}`);
      ws.send(Buffer.alloc(i));
    }
    await within(all, '200 echoes');
    assert.deepEqual(received, Array.from({ length: 100 }, (_, i) => [`m${i}`, `bin:${i}`]).flat());
    const closing = recordClose(ws);
    ws.close(1000);
    assert.equal((await closing).code, 1000);
  });

  it('a reader that stops reading pauses the socket, and the sender is held back (bufferedAmount)', async () => {
    const s = await serve({ heartbeat: false });
    const { ws, peer } = await connected(s);
    const { readable } = toWebStreams(peer, { readableHighWaterMark: 64 * 1024 });
    const reader = readable.getReader();
    const chunk = Buffer.alloc(256 * 1024, 1);
    let sent = 0;
    // Send until the client itself holds bytes: the server stopped reading, TCP filled up.
    while (ws.bufferedAmount < 1024 * 1024 && sent < 256) {
      ws.send(chunk);
      sent++;
      await immediate();
    }
    assert.ok(ws.bufferedAmount >= 1024 * 1024, `the sender is held back (sent ${sent} messages)`);
    assert.equal(peer.isPaused, true, 'the server-side socket is paused by the full readable');
    let bytes = 0;
    for (let i = 0; i < sent; i++) {
      const { value } = await within(reader.read(), `message ${i}`);
      bytes += (value as Uint8Array).byteLength;
    }
    assert.equal(bytes, sent * chunk.length, 'every byte arrives once the reader reads');
    assert.equal(peer.isPaused, false, 'reading resumed');
    const drained = ws.bufferedAmount === 0 ? Promise.resolve() : next(ws, 'drain');
    await drained;
  });

  it('a write waits while the peer does not read, and resolves once the buffer drains', async () => {
    const s = await serve({ heartbeat: false });
    const { ws, peer } = await connected(s);
    peer.pause();
    let received = 0;
    peer.on('message', (d: Buffer) => {
      received += d.length;
    });
    const { writable } = toWebStreams(ws);
    const writer = writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let pending: Promise<void> | null = null;
    let written = 0;
    while (pending === null && written < 256) {
      const write = writer.write(chunk);
      written++;
      const settled = await Promise.race([write.then(() => true), immediate().then(() => false)]);
      if (!settled) pending = write;
    }
    assert.ok(pending !== null, 'a write stayed pending');
    assert.ok(ws.bufferedAmount > 16 * 1024, 'over the highWaterMark');
    assert.ok((writer.desiredSize ?? 1) <= 0, 'the producer sees backpressure (writer.ready pending)');
    peer.resume();
    await within(pending, 'the pending write');
    await within(writer.ready, 'writer.ready');
    while (received < written * chunk.length) await next(peer, 'message');
    assert.equal(received, written * chunk.length);
  });

  it('throws WS_ERR_INVALID_STATE for a connection that is not open', () => {
    const ws = new WskitWebSocket(null);
    assert.throws(() => toWebStreams(ws), { code: 'WS_ERR_INVALID_STATE' });
  });

  it("refuses binaryType 'blob'", async () => {
    const s = await serve();
    const { peer } = await connected(s);
    peer.binaryType = 'blob';
    assert.throws(() => toWebStreams(peer), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });
});
