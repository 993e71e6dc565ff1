// SECURITY.md, "A peer that sends but never reads": every Ping is answered with a Pong, so a peer
// that floods pings and reads nothing makes the server buffer pongs. wskit is to stop reading from
// such a peer once its unsent bytes pass readPauseBufferedAmount (1 MiB), until they drain below
// highWaterMark (tested in test/node/output-bound.test.ts), and counts everything it writes (data,
// pongs, the Close, published messages) against maxBufferedAmount (64 MiB, then 1008).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocket, WebSocketError } from '../../src/index.js';
import { clientFrame, next, rawWebSocket, serve, within } from './helpers.js';

const _MiB = 1024 * 1024;
const PINGS = 200_000; // 26 MB of pings, 25 MB of pongs: more than the kernel's loopback buffers hold
const PING = clientFrame(0x9, Buffer.alloc(125, 0x70));

describe('a peer that sends but never reads', () => {
  it('pongs count against maxBufferedAmount: a ping flood from a peer that does not read, with maxBufferedAmount 256 KiB, ends with 1008', async () => {
    const { wss, port } = await serve({ heartbeat: false, maxBufferedAmount: 256 * 1024 });
    const accepted = next<[WebSocket]>(wss, 'connection');
    const { socket } = await rawWebSocket(port);
    socket.pause();
    const [server] = await accepted;
    // Not next(): events.once() would reject on the 'error' that comes first.
    const closed = new Promise((resolve) => server.once('close', resolve));
    const errored = within(
      new Promise<WebSocketError>((resolve) => server.once('error', resolve)),
      'the backpressure error',
      5000,
    );
    socket.write(Buffer.concat(Array.from({ length: PINGS }, () => PING)));
    const error = await errored;
    assert.equal(error.code, 'WS_ERR_BACKPRESSURE_LIMIT');
    assert.equal(error.closeCode, 1008);
    socket.destroy();
    await within(closed, "the server side's close");
  });
});
