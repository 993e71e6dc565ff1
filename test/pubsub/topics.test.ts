import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import { InMemoryBroker } from '../../src/pubsub/broker.js';
import {
  client,
  closed,
  connected,
  defer,
  next,
  rawWebSocket,
  recordClose,
  runCleanups,
  serve,
  serverFrames,
  WebSocket,
  WebSocketServer,
  within,
} from '../node/helpers.js';

afterEach(runCleanups);

/** Resolves with the next `count` messages a client receives, as strings. */
function messages(ws: WebSocket, count: number): Promise<string[]> {
  return within(
    new Promise((resolve) => {
      const got: string[] = [];
      const on = (data: Buffer) => {
        got.push(data.toString());
        if (got.length === count) {
          ws.off('message', on);
          resolve(got);
        }
      };
      ws.on('message', on);
    }),
    `${count} messages`,
  );
}

describe('topics on one server', () => {
  it('subscribe, unsubscribe, isSubscribed, getTopics, subscriberCount', async () => {
    const s = await serve();
    const a = await connected(s);
    const b = await connected(s);
    a.peer.subscribe('news');
    a.peer.subscribe('sport');
    a.peer.subscribe('news'); // twice is once
    b.peer.subscribe('news');
    assert.deepEqual(a.peer.getTopics().sort(), ['news', 'sport']);
    assert.equal(a.peer.isSubscribed('news'), true);
    assert.equal(b.peer.isSubscribed('sport'), false);
    assert.equal(s.wss.subscriberCount('news'), 2);
    assert.equal(a.peer.unsubscribe('news'), true);
    assert.equal(a.peer.unsubscribe('news'), false);
    assert.equal(s.wss.subscriberCount('news'), 1);
    assert.equal(s.wss.subscriberCount('nobody'), 0);
  });

  it('publishes to the subscribers only, with except, text and binary', async () => {
    const s = await serve();
    const a = await connected(s);
    const b = await connected(s);
    const c = await connected(s);
    a.peer.subscribe('room');
    b.peer.subscribe('room');
    const gotA = messages(a.ws, 2);
    const gotB = messages(b.ws, 1);
    let cGot = 0;
    c.ws.on('message', () => cGot++);
    assert.equal(s.wss.publish('room', 'hello'), 2);
    assert.equal(s.wss.publish('room', Buffer.from('bytes'), { except: b.peer }), 1);
    assert.deepEqual(await gotA, ['hello', 'bytes']);
    assert.deepEqual(await gotB, ['hello']);
    // c is not subscribed: a message to c directly arrives first, nothing published did.
    const direct = next<[Buffer, boolean]>(c.ws, 'message');
    c.peer.send('direct');
    assert.equal((await direct)[0].toString(), 'direct');
    assert.equal(cGot, 1);
  });

  it('keeps the binary flag', async () => {
    const s = await serve();
    const a = await connected(s);
    a.peer.subscribe('t');
    const got = next<[Buffer, boolean]>(a.ws, 'message');
    s.wss.publish('t', Buffer.from([1, 2, 3]));
    const [data, isBinary] = await got;
    assert.equal(isBinary, true);
    assert.deepEqual(data, Buffer.from([1, 2, 3]));
    const text = next<[Buffer, boolean]>(a.ws, 'message');
    s.wss.publish('t', Buffer.from('as text'), { binary: false });
    assert.equal((await text)[1], false);
  });

  it('frames a published message once: every subscriber is handed the same bytes', async () => {
    const s = await serve();
    const peers = [await connected(s), await connected(s), await connected(s)];
    const framed: Buffer[] = [];
    for (const { peer } of peers) {
      peer.subscribe('t');
      const protocol = peer._protocol!;
      const original = protocol.sendFramed.bind(protocol);
      protocol.sendFramed = (frame: Buffer) => {
        framed.push(frame);
        original(frame);
      };
    }
    const all = Promise.all(peers.map(({ ws }) => next(ws, 'message')));
    s.wss.publish('t', 'once');
    await all;
    assert.equal(framed.length, 3);
    assert.ok(
      framed.every((f) => f === framed[0]),
      'one Buffer for all subscribers',
    );
    assert.deepEqual(framed[0], Buffer.from([0x81, 4, ...Buffer.from('once')]));
  });

  it('compresses for subscribers that negotiated permessage-deflate (RSV1, the same compressed frame for each), not for the others', async () => {
    const s = await serve({ perMessageDeflate: { threshold: 0 } });
    const withDeflate = await connected(s);
    const offer = { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' };
    const deflating = [await rawWebSocket(s.port, '/', offer), await rawWebSocket(s.port, '/', offer)];
    const plain = await rawWebSocket(s.port);
    for (const r of [...deflating, plain]) defer(() => r.socket.destroy());
    for (const r of deflating) assert.match(r.head, /sec-websocket-extensions: permessage-deflate/i);
    for (const peer of s.wss.clients) peer.subscribe('t');
    assert.equal(withDeflate.ws.extensions, 'permessage-deflate');
    const text = 'compress me '.repeat(50);
    const got = next<[Buffer]>(withDeflate.ws, 'message');
    const firstBytes = (r: { socket: import('node:net').Socket }) => next<[Buffer]>(r.socket, 'data');
    const compressed = deflating.map(firstBytes);
    const uncompressed = firstBytes(plain);
    s.wss.publish('t', text);
    assert.equal((await got)[0].toString(), text, 'a wskit client inflates it');
    const [a, b] = await Promise.all(compressed);
    const [frameA] = serverFrames(a[0]);
    const [frameB] = serverFrames(b[0]);
    assert.equal(a[0][0] & 0x40, 0x40, 'RSV1: compressed');
    assert.ok(frameA.payload.length < Buffer.byteLength(text) / 2, 'and smaller');
    assert.deepEqual(a[0], b[0], 'the same frame for both: compressed once and framed once');
    assert.equal(
      inflateRawSync(Buffer.concat([frameB.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
        finishFlush: constants.Z_SYNC_FLUSH,
      }).toString(),
      text,
    );
    const [frame] = serverFrames((await uncompressed)[0]);
    assert.equal(frame.payload.toString(), text, 'the subscriber without deflate gets it uncompressed');
    assert.equal((await uncompressed)[0][0] & 0x40, 0, 'RSV1 clear');
  });

  it('broadcast reaches every client', async () => {
    const s = await serve();
    const a = await connected(s);
    const b = await connected(s);
    const both = Promise.all([messages(a.ws, 1), messages(b.ws, 1)]);
    assert.equal(s.wss.broadcast('all'), 2);
    assert.deepEqual(await both, [['all'], ['all']]);
  });

  it('a closed connection leaves its topics', async () => {
    const s = await serve();
    const a = await connected(s);
    a.peer.subscribe('t');
    assert.equal(s.wss.subscriberCount('t'), 1);
    const gone = closed(a.peer);
    a.ws.close();
    await gone;
    assert.equal(s.wss.subscriberCount('t'), 0);
    assert.equal(s.wss.publish('t', 'x'), 0);
  });

  it('refuses bad topics and topics on client connections', async () => {
    const s = await serve();
    const a = await connected(s);
    for (const bad of ['', 'x'.repeat(1025), '\u0000broadcast', 42 as unknown as string]) {
      assert.throws(() => a.peer.subscribe(bad), { code: 'WS_ERR_INVALID_ARGUMENT' });
    }
    assert.throws(() => s.wss.publish('', 'x'), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => a.ws.subscribe('t'), { code: 'WS_ERR_INVALID_STATE' });
    assert.throws(() => new WebSocketServer({ noServer: true, backpressurePolicy: 'x' as 'drop' }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});

describe('slow consumers', () => {
  /** A subscriber that never reads: the server's send buffer for it only grows. */
  async function stalled(s: Awaited<ReturnType<typeof serve>>) {
    const raw = await rawWebSocket(s.port);
    defer(() => raw.socket.destroy());
    raw.socket.pause();
    const peer = [...s.wss.clients].at(-1)!;
    peer.subscribe('t');
    return { raw, peer };
  }

  it("'drop': a subscriber over maxBackpressure misses messages, counted, and its buffer stays bounded", async () => {
    const limit = 256 * 1024;
    const s = await serve({ maxBackpressure: limit });
    const fast = await connected(s);
    fast.peer.subscribe('t');
    const { peer } = await stalled(s);
    const chunk = Buffer.alloc(64 * 1024, 7);
    let received = 0;
    fast.ws.on('message', () => received++);
    const rounds = 300; // 19 MB: more than the kernel buffers of the stalled connection hold
    for (let i = 0; i < rounds; i++) {
      s.wss.publish('t', chunk);
      // One message per turn of the event loop, as a paced publisher would: the fast subscriber keeps up.
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(peer.droppedMessages > 0, 'the stalled subscriber missed messages');
    assert.equal(s.wss.droppedMessages, peer.droppedMessages, 'the fast subscriber missed none');
    assert.ok(peer.bufferedAmount <= limit + chunk.length + 16, `buffered ${peer.bufferedAmount}`);
    assert.equal(peer.readyState, WebSocket.OPEN);
    await within(
      new Promise<void>((resolve) => {
        const check = () => (received === rounds ? resolve() : fast.ws.once('message', check));
        check();
      }),
      'every message at the fast subscriber',
    );
  });

  it("'close': a subscriber over maxBackpressure is closed with 1008", async () => {
    const s = await serve({ maxBackpressure: 256 * 1024, backpressurePolicy: 'close' });
    const { peer } = await stalled(s);
    const gone = recordClose(peer); // a plain listener: once() would turn the 'error' event into a rejection
    let sentCode: number | undefined;
    peer.on('error', (err: Error & { closeCode?: number }) => {
      sentCode = err.closeCode;
    });
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 400 && peer.readyState === WebSocket.OPEN; i++) {
      s.wss.publish('t', chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.notEqual(peer.readyState, WebSocket.OPEN, 'closed once over the limit');
    assert.equal(peer.droppedMessages, 1);
    peer.terminate(); // the paused peer will never answer the Close
    // No Close came back: 1006 (RFC 6455 §7.1.5); the Close sent said 1008.
    assert.equal((await gone).code, 1006);
    assert.equal(sentCode, 1008);
  });
});

describe('servers sharing a broker', () => {
  it('an in-memory broker connects the servers of one process', async () => {
    const broker = new InMemoryBroker();
    const one = await serve({ broker });
    const two = await serve({ broker });
    const a = await connected(one);
    const b = await connected(two);
    a.peer.subscribe('room');
    b.peer.subscribe('room');
    const gotA = messages(a.ws, 2);
    const gotB = messages(b.ws, 2);
    assert.equal(one.wss.publish('room', 'from one'), 1);
    assert.equal(two.wss.publish('room', 'from two'), 1);
    assert.deepEqual(await gotA, ['from one', 'from two']);
    assert.deepEqual(await gotB, ['from one', 'from two']);
    const all = Promise.all([messages(a.ws, 1), messages(b.ws, 1)]);
    one.wss.broadcast('everyone');
    assert.deepEqual(await all, [['everyone'], ['everyone']]);
  });

  it('client-side subscribe is refused even with a broker', () => {
    const ws = client('ws://127.0.0.1:1');
    ws.on('error', () => {});
    assert.throws(() => ws.subscribe('t'), { code: 'WS_ERR_INVALID_STATE' });
  });
});
