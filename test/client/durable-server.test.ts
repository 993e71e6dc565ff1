// wskit/client against wskit's own wskit.topics.v1 server (WebSocketServer's `durable` option), in one
// process: two servers sharing an InMemoryBroker stand for two processes sharing Redis. The client
// resumes on the other server after its own closed, publishes survive the move, presence follows.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { type TopicMessage, TopicsClient, type TopicsClientEvents } from '../../src/client/index.js';
import { type Broker, InMemoryBroker, WebSocket, WebSocketServer } from '../../src/index.js';

const WAIT = 5_000;
const servers = new Set<WebSocketServer>();
const clients = new Set<TopicsClient<unknown>>();

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))));
  servers.clear();
});

async function durableServer(broker: Broker, port = 0): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1', broker, durable: true, heartbeat: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  servers.add(wss);
  return wss;
}

function urlOf(wss: WebSocketServer): string {
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
}

function client<T>(url: string): TopicsClient<T> {
  const c = new TopicsClient<T>(url, {
    WebSocket: WebSocket as never,
    backoff: { min: 10, max: 40, jitter: 0 },
  });
  clients.add(c as TopicsClient<unknown>);
  return c;
}

function event<K extends keyof TopicsClientEvents>(
  c: TopicsClient<unknown>,
  type: K,
): Promise<TopicsClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' within ${WAIT} ms`)), WAIT);
    c.once(type, (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
}

function until<T>(
  got: TopicMessage<T>[],
  n: number,
  emitter: { on(t: 'message', l: () => void): () => void },
) {
  return new Promise<void>((resolve, reject) => {
    if (got.length >= n) return resolve();
    const timer = setTimeout(() => reject(new Error(`${got.length} messages, not ${n}`)), WAIT);
    const off = emitter.on('message', () => {
      if (got.length < n) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe('wskit/client with the durable server', () => {
  it('history for a newcomer, then acked publishes delivered in offset order', async () => {
    const wss = await durableServer(new InMemoryBroker());
    for (let i = 1; i <= 4; i++) await wss.durable!.publish('news', JSON.stringify(`old ${i}`));
    const c = client<string>(urlOf(wss));
    const got: TopicMessage<string>[] = [];
    const sub = c.subscribe('news', { history: 3, onMessage: (m) => got.push(m) });
    const ready = await sub.ready;
    assert.equal(ready.offset, 4);
    const ack = await c.publish('news', 'mine');
    assert.equal(ack.offset, 5);
    await until(got, 4, sub);
    assert.deepEqual(
      got.map((m) => [m.offset, m.data, m.replayed]),
      [
        [2, 'old 2', true],
        [3, 'old 3', true],
        [4, 'old 4', true],
        [5, 'mine', false],
      ],
    );
  });

  it('its server closes mid-stream: resumed on the other server, every message once and in order', async () => {
    const broker = new InMemoryBroker();
    const one = await durableServer(broker);
    const port = (one.address() as AddressInfo).port;
    const c = client<number>(urlOf(one));
    const got: TopicMessage<number>[] = [];
    const sub = c.subscribe('feed', { onMessage: (m) => got.push(m) });
    await sub.ready;
    const other = await durableServer(broker);
    let n = 0;
    for (; n < 5; n++) await other.durable!.publish('feed', String(n + 1));
    await until(got, 5, sub);
    const closed = event(c as TopicsClient<unknown>, 'close');
    await new Promise((r) => one.close(r));
    servers.delete(one);
    await closed;
    for (; n < 10; n++) await other.durable!.publish('feed', String(n + 1)); // said while away
    const two = await durableServer(broker, port); // "the load balancer" now reaches another server
    const reopened = event(c as TopicsClient<unknown>, 'open');
    await reopened;
    for (; n < 12; n++) await two.durable!.publish('feed', String(n + 1));
    await until(got, 12, sub);
    assert.deepEqual(
      got.map((m) => m.data),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    assert.deepEqual(
      got.map((m) => m.offset),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
  });

  it('presence: the list, join and leave from the server; its own join included', async () => {
    const wss = await durableServer(new InMemoryBroker());
    const ada = client<unknown>(urlOf(wss));
    const sub = ada.subscribe<unknown, { name: string }>('room', { presence: { info: { name: 'Ada' } } });
    await sub.ready;
    const names = () => sub.members.map((m) => m.info.name).sort();
    const waitNames = (expected: string[]) =>
      new Promise<void>((resolve, reject) => {
        const check = () => names().join() === expected.join();
        if (check()) return resolve();
        const timer = setTimeout(() => reject(new Error(`members ${names()} not ${expected}`)), WAIT);
        const offs = (['presence', 'join', 'leave'] as const).map((t) =>
          sub.on(t, () => {
            if (!check()) return;
            clearTimeout(timer);
            for (const off of offs) off();
            resolve();
          }),
        );
      });
    await waitNames(['Ada']);
    const grace = client<unknown>(urlOf(wss));
    await grace.subscribe('room', { presence: { info: { name: 'Grace' } } }).ready;
    await waitNames(['Ada', 'Grace']);
    grace.close();
    await waitNames(['Ada']);
  });
});
