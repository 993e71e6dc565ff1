// TopicsClient end to end over loopback, against the fake wskit.topics.v1 server (fake-server.ts),
// with wskit's WebSocket as the WebSocket option (Node 20 has no global one). Servers die and come
// back, acks get lost, a server hangs; every wait is on an event, with a deadline.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  type TopicMessage,
  TopicsClient,
  type TopicsClientEvents,
  type TopicsClientOptions,
} from '../../src/client/index.js';
import { WebSocket } from '../../src/index.js';
import { FakeTopicsServer } from './fake-server.js';

const WAIT = 5_000;
const FAST = { min: 10, max: 50, factor: 2, jitter: 0 };

const servers = new Set<FakeTopicsServer>();
const clients = new Set<TopicsClient<unknown>>();
const others: Server[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
  await Promise.all(others.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function server(options: Parameters<typeof FakeTopicsServer.start>[0] = {}): Promise<FakeTopicsServer> {
  const s = await FakeTopicsServer.start(options);
  servers.add(s);
  return s;
}

function client<T = unknown>(url: string, options: TopicsClientOptions<T> = {}): TopicsClient<T> {
  const c = new TopicsClient<T>(url, {
    WebSocket: WebSocket as unknown as TopicsClientOptions['WebSocket'],
    backoff: FAST,
    ...options,
  });
  clients.add(c as TopicsClient<unknown>);
  return c;
}

/** The next `type` event of the client (matching `where`), within WAIT ms. */
function next<K extends keyof TopicsClientEvents>(
  c: TopicsClient<unknown>,
  type: K,
  where: (e: TopicsClientEvents[K]) => boolean = () => true,
): Promise<TopicsClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(type)}' event within ${WAIT} ms`));
    }, WAIT);
    const off = c.on(type, (e) => {
      if (!where(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** Collects a subscription's messages; `until(n)` resolves once n have arrived. */
function collector<T>() {
  const got: TopicMessage<T>[] = [];
  let waiting: { n: number; resolve: () => void } | null = null;
  return {
    got,
    onMessage: (m: TopicMessage<T>) => {
      got.push(m);
      if (waiting !== null && got.length >= waiting.n) waiting.resolve();
    },
    until(n: number): Promise<void> {
      if (got.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${got.length} messages within ${WAIT} ms, not ${n}`)),
          WAIT,
        );
        waiting = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
  };
}

describe('TopicsClient', () => {
  it('subscribes with history, publishes with acknowledgement, and receives its own message once', async () => {
    const s = await server();
    s.publish('room', '"old 1"');
    s.publish('room', '"old 2"');
    s.publish('room', '"old 3"');
    const c = client<string>(s.url);
    const messages = collector<string>();
    const sub = c.subscribe('room', { history: 2, onMessage: messages.onMessage });
    await next(c, 'open');
    assert.equal(c.state, 'open');
    assert.deepEqual(await sub.ready, {
      topic: 'room',
      epoch: 'e1',
      offset: 3,
      recovered: false,
      resumed: false,
    });
    assert.deepEqual(await c.publish('room', 'new'), { topic: 'room', offset: 4, epoch: 'e1' });
    await messages.until(3);
    assert.deepEqual(
      messages.got.map((m) => [m.offset, m.data, m.replayed]),
      [
        [2, 'old 2', true],
        [3, 'old 3', true],
        [4, 'new', false],
      ],
    );
    assert.deepEqual(s.sent('subscribe')[0], { type: 'subscribe', id: 1, topic: 'room', history: 2 });
  });

  it('a server that dies mid-stream: the client reconnects to another and gets every message said meanwhile, once, in order', async () => {
    const first = await server();
    const c = client<number>(first.url);
    const messages = collector<number>();
    await c.subscribe('feed', { onMessage: messages.onMessage }).ready;
    for (let i = 1; i <= 5; i++) first.publish('feed', String(i));
    await messages.until(5);
    const port = first.port;
    const closed = next(c, 'close');
    await first.close();
    servers.delete(first);
    assert.equal((await closed).willReconnect, true);
    // Meanwhile, on another server sharing the topics, the stream goes on.
    const second = await FakeTopicsServer.start({ topics: first.topics, port });
    servers.add(second);
    for (let i = 6; i <= 9; i++) second.publish('feed', String(i));
    const reopened = await next(c, 'open');
    assert.equal(reopened.reconnected, true);
    for (let i = 10; i <= 12; i++) second.publish('feed', String(i));
    await messages.until(12);
    assert.deepEqual(
      messages.got.map((m) => m.data),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    assert.deepEqual(second.sent('subscribe').at(-1)?.since, { offset: 5, epoch: 'e1' });
  });

  it('publishes made while disconnected wait in the buffer; an unacknowledged one is sent again and stored once', async () => {
    const s = await server();
    const c = client<string>(s.url);
    await next(c, 'open');
    s.noAcks = true;
    const lost = c.publish('t', 'ack lost');
    await new Promise<void>((resolve) => {
      const check = () => (s.sent('publish').length === 1 ? resolve() : setImmediate(check));
      check();
    });
    const closed = next(c, 'close');
    s.dropAll();
    await closed;
    const waiting = c.publish('t', 'sent while away');
    assert.deepEqual(c.buffered, { messages: 2, bytes: 27 });
    s.noAcks = false;
    const [a, b] = await Promise.all([lost, waiting]);
    assert.equal(a.offset, 1);
    assert.equal(b.offset, 2);
    const keys = s.sent('publish').map((p) => p.key);
    assert.equal(keys.length, 3);
    assert.equal(keys[0], keys[1], 'the same key the second time');
    assert.deepEqual(
      s.topic('t').messages.map((m) => m.data),
      ['"ack lost"', '"sent while away"'],
      'stored once each, in order',
    );
    assert.deepEqual(c.buffered, { messages: 0, bytes: 0 });
  });

  it('past the send buffer bound, publish rejects with TOPICS_ERR_BUFFER_FULL', async () => {
    const s = await server();
    const url = s.url;
    await s.close();
    servers.delete(s);
    const c = client<string>(url, { maxBufferedMessages: 2 });
    const kept = [c.publish('t', 'a'), c.publish('t', 'b')];
    await assert.rejects(c.publish('t', 'c'), { code: 'TOPICS_ERR_BUFFER_FULL' });
    c.close();
    for (const p of kept) await assert.rejects(p, { code: 'TOPICS_ERR_CLOSED' });
  });

  it('the heartbeat: a server that stops answering is dropped and the client reconnects', async () => {
    const s = await server();
    const c = client(s.url, { heartbeat: { interval: 40, timeout: 40 } });
    await next(c, 'open');
    const pinged = await new Promise<Record<string, unknown>>((resolve) => {
      const check = () => (s.sent('ping').length > 0 ? resolve(s.sent('ping')[0]!) : setTimeout(check, 5));
      check();
    });
    assert.equal(pinged.type, 'ping');
    s.silent = true;
    const error = await next(c, 'error');
    assert.equal(error.code, 'TOPICS_ERR_HEARTBEAT_TIMEOUT');
    s.silent = false;
    await next(c, 'open');
  });

  it('a server that does not select wskit.topics.v1 never opens (the handshake fails): the client retries', async () => {
    const s = await server({ noSubprotocol: true });
    const c = client(s.url);
    let opened = false;
    c.on('open', () => {
      opened = true;
    });
    assert.equal((await next(c, 'reconnecting')).attempt, 1);
    assert.equal((await next(c, 'reconnecting')).attempt, 2);
    assert.equal(opened, false);
  });

  it('a WebSocket that opens without the subprotocol (a lenient implementation) is refused with TOPICS_ERR_SUBPROTOCOL', async () => {
    const closes: unknown[][] = [];
    class Lenient extends EventTarget {
      readonly readyState = 1;
      readonly protocol = '';
      constructor() {
        super();
        setImmediate(() => this.dispatchEvent(new Event('open')));
      }
      send(): void {}
      close(...args: unknown[]): void {
        closes.push(args);
      }
    }
    const c = client('ws://127.0.0.1:1/', { WebSocket: Lenient as never });
    const error = await next(c, 'error');
    assert.equal(error.code, 'TOPICS_ERR_SUBPROTOCOL');
    assert.match(error.message, /did not select wskit\.topics\.v1/);
    assert.deepEqual(closes[0], [1000, 'wskit.topics.v1 was not selected']);
  });

  it('gives up on a connection that does not open within connectTimeout, and retries', async () => {
    const sockets: Socket[] = [];
    const hang = createServer((socket) => sockets.push(socket)); // accepts, never answers
    others.push(hang);
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const { port } = hang.address() as { port: number };
    const c = client(`ws://127.0.0.1:${port}/`, { connectTimeout: 50 });
    const retry = await next(c, 'reconnecting');
    assert.equal(retry.attempt, 1);
    c.close();
    for (const socket of sockets) socket.destroy();
  });

  it('shouldReconnect decides after a close from the server; close() never reconnects', async () => {
    const s = await server();
    const c = client(s.url, { shouldReconnect: ({ code }) => code !== 4001 });
    await next(c, 'open');
    const closed = next(c, 'close');
    for (const peer of s.peers) peer.ws.close(4001, 'Replaced');
    assert.deepEqual(await closed, { code: 4001, reason: 'Replaced', wasClean: true, willReconnect: false });
    assert.equal(c.state, 'closed');
    await assert.rejects(c.publish('t', 1), { code: 'TOPICS_ERR_CLOSED' });
  });

  it('presence across a reconnect: the list again from the server, deltas between', async () => {
    const s = await server();
    const ada = client<unknown>(s.url);
    const grace = client<unknown>(s.url);
    const adaSub = ada.subscribe<unknown, { name: string }>('room', { presence: { info: { name: 'Ada' } } });
    await next(ada, 'open');
    await new Promise<void>((resolve) => adaSub.once('presence', () => resolve()));
    const joined = new Promise<string>((resolve) => adaSub.once('join', (e) => resolve(e.member.info.name)));
    grace.subscribe('room', { presence: { info: { name: 'Grace' } } });
    assert.equal(await joined, 'Grace');
    assert.deepEqual(
      (await ada.presence<{ name: string }>('room')).map((m) => m.info.name),
      ['Ada', 'Grace'],
    );
    const left = new Promise<number>((resolve) => adaSub.once('leave', (e) => resolve(e.members.length)));
    grace.close();
    assert.equal(await left, 1);
    const list = new Promise<string[]>((resolve) =>
      adaSub.once('presence', (e) => resolve(e.members.map((m) => m.info.name))),
    );
    s.dropAll();
    assert.deepEqual(await list, ['Ada'], 'after the reconnect, the list from the server');
  });

  it('the browser going offline stops the retries; online connects at once', async () => {
    const scope = globalThis as unknown as Record<string, unknown>;
    const target = new EventTarget();
    const saved = { navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator') };
    const navigator = { onLine: true };
    Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
    scope.addEventListener = target.addEventListener.bind(target);
    scope.removeEventListener = target.removeEventListener.bind(target);
    try {
      const s = await server();
      const c = client(s.url, { backoff: { min: 60_000, max: 60_000 } });
      await next(c, 'open');
      const closed = next(c, 'close');
      s.dropAll();
      await closed;
      assert.equal(c.state, 'reconnecting', 'waiting a minute to retry');
      navigator.onLine = false;
      const offline = next(c, 'offline');
      target.dispatchEvent(new Event('offline'));
      await offline;
      assert.equal(c.state, 'offline');
      navigator.onLine = true;
      const opened = next(c, 'open');
      target.dispatchEvent(new Event('online'));
      await opened; // long before the minute
      c.close();
      target.dispatchEvent(new Event('online')); // removed: nothing happens
      assert.equal(c.state, 'closed');
    } finally {
      delete scope.addEventListener;
      delete scope.removeEventListener;
      if (saved.navigator === undefined) delete scope.navigator;
      else Object.defineProperty(globalThis, 'navigator', saved.navigator);
    }
  });

  it('without a global WebSocket or the option, says what to pass', {
    skip: typeof globalThis.WebSocket === 'function',
  }, () => {
    assert.throws(() => new TopicsClient('ws://127.0.0.1:1/'), {
      code: 'TOPICS_ERR_NO_WEBSOCKET',
      message: /pass one as the WebSocket option/,
    });
    assert.throws(() => new TopicsClient('ftp://x/', { WebSocket: WebSocket as never }), {
      code: 'TOPICS_ERR_INVALID_ARGUMENT',
    });
  });

  it('uses the global WebSocket where there is one (Node ≥ 22)', {
    skip: typeof globalThis.WebSocket !== 'function',
  }, async () => {
    const s = await server();
    const c = new TopicsClient<string>(s.url, { backoff: FAST });
    clients.add(c as TopicsClient<unknown>);
    const messages = collector<string>();
    c.subscribe('g', { onMessage: messages.onMessage });
    await next(c as TopicsClient<unknown>, 'open');
    await c.publish('g', 'via the global WebSocket');
    await messages.until(1);
    assert.equal(messages.got[0]?.data, 'via the global WebSocket');
  });
});
