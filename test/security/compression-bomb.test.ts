// SECURITY.md, "Compression bombs": a permessage-deflate message of a few KB that inflates to
// gigabytes. wskit stops inflating at maxPayload bytes of output and fails the connection with
// 1009, on the synchronous path, on the thread pool, with context takeover, for a fragmented
// message, and on the client side; the process does not inflate the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, createDeflateRaw, deflateRawSync } from 'node:zlib';
import { WebSocket, type WebSocketError } from '../../src/index.js';
import {
  acceptFor,
  clientFrame,
  closeCodeOf,
  next,
  rawServer,
  rawWebSocket,
  serve,
  serverFrames,
  within,
} from './helpers.js';

const MiB = 1024 * 1024;
const RSV1 = 0x40;
const FIN = 0x80;

/** `size` zero bytes, raw-deflated and without the 4-byte tail of the final sync flush (RFC 7692 §7.2.1). */
function bomb(size: number): Buffer {
  const out = deflateRawSync(Buffer.alloc(size), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** The same, deflated 1 MiB at a time (so that the test itself never holds `size` bytes), fast: level 1. */
async function bigBomb(size: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 1 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const zeros = Buffer.alloc(MiB);
  for (let sent = 0; sent < size; sent += MiB) {
    if (!deflate.write(zeros)) await next(deflate, 'drain', 30_000);
  }
  await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  const out = Buffer.concat(chunks);
  return out.subarray(0, out.length - 4);
}

async function closeCodeAfter(port: number, frames: Buffer, offer = 'permessage-deflate'): Promise<number> {
  const { socket, head } = await rawWebSocket(port, { 'Sec-WebSocket-Extensions': offer });
  assert.match(head, /Sec-WebSocket-Extensions: permessage-deflate/);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = within(
    new Promise((resolve) => socket.once('close', resolve)),
    'the server to close',
    15_000,
  );
  socket.write(frames);
  await closed;
  const close = serverFrames(Buffer.concat(chunks)).find((f) => f.opcode === 0x8);
  assert.ok(close, 'a Close frame');
  return closeCodeOf(close.payload);
}

describe('compression bombs', () => {
  it('16 MiB of zeros in 16 KB, maxPayload 1 MiB, inflated synchronously: 1009', async () => {
    const { port } = await serve({ perMessageDeflate: true, maxPayload: MiB });
    const payload = bomb(16 * MiB);
    assert.ok(payload.length < 32 * 1024);
    assert.equal(await closeCodeAfter(port, clientFrame(0x2, payload, FIN | RSV1)), 1009);
  });

  it('the same on the thread pool (syncLimit 1 KiB): 1009', async () => {
    const { port } = await serve({ perMessageDeflate: { syncLimit: 1024 }, maxPayload: MiB });
    assert.equal(await closeCodeAfter(port, clientFrame(0x2, bomb(16 * MiB), FIN | RSV1)), 1009);
  });

  it('the same with context takeover (a zlib stream kept for the connection): 1009', async () => {
    const { port } = await serve({ perMessageDeflate: { clientNoContextTakeover: false }, maxPayload: MiB });
    assert.equal(await closeCodeAfter(port, clientFrame(0x2, bomb(16 * MiB), FIN | RSV1)), 1009);
  });

  it('the same as 1,000 fragments: 1009', async () => {
    const { port } = await serve({ perMessageDeflate: true, maxPayload: MiB });
    const payload = bomb(16 * MiB);
    const step = Math.ceil(payload.length / 1000);
    const frames: Buffer[] = [];
    for (let at = 0; at < payload.length; at += step) {
      const first = at === 0;
      const last = at + step >= payload.length;
      frames.push(
        clientFrame(
          first ? 0x2 : 0x0,
          payload.subarray(at, at + step),
          (last ? FIN : 0) | (first ? RSV1 : 0),
        ),
      );
    }
    assert.equal(await closeCodeAfter(port, Buffer.concat(frames)), 1009);
  });

  it('a 512 MiB bomb (2.3 MB on the wire) with the default maxPayload (100 MiB): 1009, and RSS grows by less than half of it', async () => {
    const payload = await bigBomb(512 * MiB);
    const { port } = await serve({ perMessageDeflate: true });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      assert.equal(await closeCodeAfter(port, clientFrame(0x2, payload, FIN | RSV1)), 1009);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    // maxPayload (100 MiB) of output at most, and zlib's buffers: well under half of the bomb.
    assert.ok(peak - before < 256 * MiB, `RSS grew by ${((peak - before) / MiB).toFixed(0)} MiB`);
  });

  it('client side: a server sending a bomb to a client with maxPayload 1 MiB: the client closes with 1009', async () => {
    const payload = bomb(16 * MiB);
    const port = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n',
      );
      const header = Buffer.from([FIN | RSV1 | 0x2, 126, payload.length >> 8, payload.length & 0xff]);
      socket.write(Buffer.concat([header, payload]));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: MiB });
    let messages = 0;
    ws.on('message', () => messages++);
    // Not next(): events.once() would reject on the 'error' that comes first.
    const closed = within(new Promise((resolve) => ws.once('close', resolve)), "the client's close", 15_000);
    const [error] = await next<[WebSocketError]>(ws, 'error', 15_000);
    assert.equal(error.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.equal(error.closeCode, 1009);
    await closed;
    assert.equal(messages, 0);
  });
});
