// RedisBroker against a real redis-server that the tests start on a free loopback port: servers in two
// processes (fixtures/topics-process.ts), Redis killed and restarted during traffic, and the broker's
// own bookkeeping in one process. Every wait is on an event, with a deadline.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBroker } from '../../src/index.js';
import {
  client,
  defer,
  next,
  rawWebSocket,
  runCleanups,
  serve,
  type WebSocket,
  type WebSocketServer,
} from '../node/helpers.js';
import { freePort, Inbox, RedisServer, stopProcesses, TopicsProcess } from './redis-helpers.js';

afterEach(runCleanups);
after(stopProcesses);

/** The channel of broadcast() (a topic of its own whose name starts with NUL). */
const BROADCAST_CHANNEL = 'wskit:\u0000broadcast';

/** An open client (terminated after the test) and the messages it receives. */
async function open(url: string): Promise<{ ws: WebSocket; inbox: Inbox }> {
  const ws = client(url);
  const inbox = new Inbox(ws);
  await next(ws, 'open');
  return { ws, inbox };
}

/** The next 'brokerError' of a server in this process. */
function brokerError(server: WebSocketServer): Promise<Error & { code?: string }> {
  return next<[Error]>(server, 'brokerError').then(([err]) => err);
}

describe('RedisBroker: servers in two processes', () => {
  let redis: RedisServer;
  let one: TopicsProcess;
  let two: TopicsProcess;

  before(async () => {
    redis = await RedisServer.start();
    [one, two] = await Promise.all([TopicsProcess.start(redis.url), TopicsProcess.start(redis.url)]);
    await Promise.all([one.request('ready'), two.request('ready')]);
  });
  after(() => stopProcesses());

  it('a message published in one process reaches the subscribers of both, in order, text and binary', async () => {
    const subscribers = await Promise.all([
      open(one.url(0, ['room'])),
      open(one.url(1, ['room'])),
      open(two.url(0, ['room'])),
      open(two.url(1, ['room'])),
    ]);
    const other = await open(two.url(0, ['other']));
    await Promise.all([
      one.request('settle', { topic: 'room', count: 2 }),
      two.request('settle', { topic: 'room', count: 2 }),
      two.request('settle', { topic: 'other', count: 1 }),
    ]);
    const expected = Array.from({ length: 50 }, (_, i) => ({ data: `message ${i}`, isBinary: i % 3 === 0 }));
    const queued = await Promise.all(
      expected.map((m) =>
        one.request('publish', { server: 0, topic: 'room', data: m.data, binary: m.isBinary }),
      ),
    );
    assert.deepEqual(queued, Array(50).fill(1), 'each publish queued for the one subscriber of server 0');
    for (const { inbox } of subscribers) assert.deepEqual(await inbox.until(50), expected);

    assert.equal(await two.request('publish', { server: 1, topic: 'room', data: 'from two' }), 1);
    for (const { inbox } of subscribers) assert.equal((await inbox.until(51))[50].data, 'from two');

    // Nothing on 'room' reached the subscriber of 'other': its first message is the one for it.
    await one.request('publish', { server: 1, topic: 'other', data: 'for other' });
    assert.deepEqual(
      (await other.inbox.until(1)).map((m) => m.data),
      ['for other'],
    );
  });

  it('subscribes once per topic per process in Redis, whatever the clients and servers', async () => {
    const monitor = await redis.monitor();
    defer(() => monitor.stop());
    /** How many SUBSCRIBE or UNSUBSCRIBE commands named `channel`. */
    const sent = (command: string, channel: string) =>
      monitor.commands.filter((c) => c[0].toLowerCase() === command && c.includes(channel)).length;
    const onOne = await Promise.all([0, 1, 0, 1, 0].map((server) => open(one.url(server, ['crowd']))));
    const onTwo = await Promise.all([0, 1, 1].map((server) => open(two.url(server, ['crowd', 'crowd2']))));
    await Promise.all([
      one.request('settle', { topic: 'crowd', count: 5 }),
      two.request('settle', { topic: 'crowd', count: 3 }),
    ]);
    assert.deepEqual(await redis.numsub('wskit:crowd', 'wskit:crowd2', BROADCAST_CHANNEL), {
      'wskit:crowd': 2,
      'wskit:crowd2': 1,
      [BROADCAST_CHANNEL]: 2,
    });
    await monitor.sync();
    assert.equal(sent('subscribe', 'wskit:crowd'), 2, 'one SUBSCRIBE per process, not per client');
    assert.equal(sent('subscribe', 'wskit:crowd2'), 1);
    // One subscriber connection (and one publisher connection) per process.
    const clients = await redis.clientList();
    assert.equal(clients.filter((c) => c.name === 'wskit-subscriber').length, 2);
    assert.equal(clients.filter((c) => c.name === 'wskit-publisher').length, 2);

    for (const { ws } of onOne) ws.close();
    await one.request('settle', { topic: 'crowd', count: 0 });
    assert.equal((await redis.numsub('wskit:crowd'))['wskit:crowd'], 1, 'the last one left in process one');
    for (const { ws } of onTwo) ws.close();
    await two.request('settle', { topic: 'crowd', count: 0 });
    assert.deepEqual(await redis.numsub('wskit:crowd', 'wskit:crowd2'), {
      'wskit:crowd': 0,
      'wskit:crowd2': 0,
    });
    await monitor.sync();
    assert.equal(sent('unsubscribe', 'wskit:crowd'), 2, 'one UNSUBSCRIBE per process, after its last client');
    assert.equal(sent('subscribe', 'wskit:crowd'), 2);
  });

  it('broadcast() reaches every client of every server in both processes', async () => {
    const everyone = await Promise.all([
      open(one.url(0)),
      open(one.url(1)),
      open(two.url(0)),
      open(two.url(1, ['some-topic'])),
    ]);
    assert.equal(await two.request('broadcast', { server: 1, data: 'to everyone' }), 1);
    for (const { inbox } of everyone) {
      assert.deepEqual(await inbox.until(1), [{ data: 'to everyone', isBinary: false }]);
    }
  });

  it('keeps a slow consumer in another process within maxBackpressure, and the others get everything', async () => {
    const limit = 256 * 1024;
    const three = await TopicsProcess.start(redis.url, { servers: 1, maxBackpressure: limit });
    const stalled = await rawWebSocket(three.ports[0], '/?topics=flood');
    defer(() => stalled.socket.destroy());
    stalled.socket.pause(); // never reads: its server-side send buffer only grows
    const fast = await open(three.url(0, ['flood']));
    await three.request('settle', { topic: 'flood', count: 2 });

    const size = 64 * 1024;
    const rounds = 300; // 19 MB: more than the kernel buffers of the stalled connection hold
    // Paced by the fast subscriber (it is in this process, which runs other tests meanwhile): the next
    // message is published once it has the last one, so only the stalled subscriber falls behind.
    for (let i = 1; i <= rounds; i++) {
      await one.request('publishMany', { server: 0, topic: 'flood', count: 1, size });
      await fast.inbox.until(i);
    }
    const stats = await three.request<{ dropped: number[]; maxBuffered: number }>('stats');
    assert.ok(stats.dropped[0] > 0, 'the stalled subscriber missed messages');
    assert.ok(stats.maxBuffered <= limit + size + 16, `buffered ${stats.maxBuffered}`);
    assert.equal(fast.inbox.messages.length, rounds, 'the fast subscriber missed none');
  });
});

describe('RedisBroker: Redis going away and coming back', () => {
  it('local delivery goes on, publishing reports the failure, and everything resumes when Redis is back', async () => {
    const redis = await RedisServer.start();
    defer(() => redis.kill());
    const [one, two] = await Promise.all([
      TopicsProcess.start(redis.url, { servers: 1 }),
      TopicsProcess.start(redis.url, { servers: 1 }),
    ]);
    await Promise.all([one.request('ready'), two.request('ready')]);
    const a = await open(one.url(0, ['room']));
    const b = await open(two.url(0, ['room']));
    await Promise.all([
      one.request('settle', { topic: 'room', count: 1 }),
      two.request('settle', { topic: 'room', count: 1 }),
    ]);
    await one.request('publish', { server: 0, topic: 'room', data: 'before' });
    await Promise.all([a.inbox.until(1), b.inbox.until(1)]);

    // Redis dies: both processes hear of it; neither crashes.
    await redis.kill();
    for (const p of [one, two]) {
      const [lost] = await p.brokerErrorsUntil(1);
      assert.equal(lost.code, 'WS_ERR_BROKER_UNAVAILABLE');
      assert.match(lost.message, /lost the connection.*this process's subscribers only/);
    }

    // Publishing still reaches this process's subscribers, and says the rest failed, at once.
    assert.equal(await one.request('publish', { server: 0, topic: 'room', data: 'during' }), 1);
    assert.deepEqual(
      (await a.inbox.until(2)).map((m) => m.data),
      ['before', 'during'],
    );
    const [, failed] = await one.brokerErrorsUntil(2);
    assert.equal(failed.code, 'WS_ERR_BROKER_UNAVAILABLE');
    // "not connected", or "publishing failed" if the publisher's connection had not seen the end yet.
    assert.match(
      failed.message,
      /(not connected|publishing failed).*topic "room" reached this process's subscribers only/,
    );
    const direct = await one.request<{ ok: boolean; ms: number; code: string }>('brokerPublish', {
      topic: 'room',
      data: 'rejected',
    });
    assert.equal(direct.ok, false);
    assert.equal(direct.code, 'WS_ERR_BROKER_UNAVAILABLE');
    assert.ok(direct.ms < 1000, `rejected after ${direct.ms} ms, not queued`);

    // A topic subscribed during the outage is subscribed in Redis when it is back.
    const c = await open(two.url(0, ['fresh']));
    const freshSettled = two.request('settle', { topic: 'fresh', count: 1 }, 20_000);
    assert.equal(await one.request('ping'), 'pong');
    assert.equal(await two.request('ping'), 'pong');
    assert.ok(one.running && two.running);

    // Redis comes back on the same port: both reconnect and resubscribe.
    await redis.start();
    await Promise.all([one.request('ready', {}, 20_000), two.request('ready', {}, 20_000), freshSettled]);
    assert.deepEqual(await redis.numsub('wskit:room', 'wskit:fresh'), { 'wskit:room': 2, 'wskit:fresh': 1 });

    // (Messages from two processes have no order between them: 'back from two' waits for 'after'.)
    await one.request('publish', { server: 0, topic: 'room', data: 'after' });
    await one.request('publish', { server: 0, topic: 'fresh', data: 'fresh news' });
    assert.deepEqual(
      (await b.inbox.until(2)).map((m) => m.data),
      ['before', 'after'],
    );
    await two.request('publish', { server: 0, topic: 'room', data: 'back from two' });
    assert.deepEqual(
      (await b.inbox.until(3)).map((m) => m.data),
      ['before', 'after', 'back from two'],
    );
    assert.deepEqual(
      (await a.inbox.until(4)).map((m) => m.data),
      ['before', 'during', 'after', 'back from two'],
    );
    assert.deepEqual(
      (await c.inbox.until(1)).map((m) => m.data),
      ['fresh news'],
    );
  });
});

describe('RedisBroker in one process', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.kill());

  it('servers sharing a RedisBroker reach each other directly, even with Redis out of reach', async () => {
    const broker = new RedisBroker({ url: `redis://127.0.0.1:${await freePort()}` });
    defer(() => broker.close());
    const one = await serve({ broker });
    const two = await serve({ broker });
    const unreachable = brokerError(one.wss);
    assert.match((await unreachable).message, /cannot connect/);
    const a = await open(one.url);
    const b = await open(two.url);
    [...one.wss.clients][0].subscribe('room');
    [...two.wss.clients][0].subscribe('room');
    const failed = brokerError(one.wss);
    assert.equal(one.wss.publish('room', 'hello'), 1);
    assert.deepEqual(await a.inbox.until(1), [{ data: 'hello', isBinary: false }]);
    assert.deepEqual(await b.inbox.until(1), [{ data: 'hello', isBinary: false }]);
    assert.equal((await failed).code, 'WS_ERR_BROKER_UNAVAILABLE');
    await assert.rejects(broker.publish(one.wss.topics, 'room', Buffer.from('x'), false), {
      code: 'WS_ERR_BROKER_UNAVAILABLE',
    });
  });

  it('skips its own messages when Redis hands them back, and ignores what wskit did not publish', async () => {
    const mine = new RedisBroker({ url: redis.url });
    const theirs = new RedisBroker({ url: redis.url });
    defer(() => Promise.all([mine.close(), theirs.close()]));
    const one = await serve({ broker: mine });
    const two = await serve({ broker: mine });
    const three = await serve({ broker: theirs });
    const b = await open(two.url);
    [...two.wss.clients][0].subscribe('room');
    await Promise.all([mine.ready(), theirs.ready()]);

    // Accepted by Redis, so Redis has pushed it back to `mine` before anything published after.
    await mine.publish(one.wss.topics, 'room', Buffer.from('mine'), false);
    const foreign = new Redis(redis.url);
    defer(() => foreign.disconnect());
    const ignored = brokerError(two.wss);
    await foreign.publish('wskit:room', 'not an envelope');
    assert.match((await ignored).message, /that wskit did not publish/);
    three.wss.publish('room', 'theirs');
    assert.deepEqual(
      (await b.inbox.until(2)).map((m) => m.data),
      ['mine', 'theirs'],
    );
  });

  it('keeps applications with different prefixes apart', async () => {
    const brokers = ['app1:', 'app1:', 'app2:', 'app2:'].map(
      (prefix) => new RedisBroker({ url: redis.url, prefix }),
    );
    defer(() => Promise.all(brokers.map((b) => b.close())));
    const [pub1, sub1, pub2, sub2] = await Promise.all(brokers.map((broker) => serve({ broker })));
    const c1 = await open(sub1.url);
    const c2 = await open(sub2.url);
    [...sub1.wss.clients][0].subscribe('room');
    [...sub2.wss.clients][0].subscribe('room');
    await Promise.all(brokers.map((b) => b.ready()));
    assert.deepEqual(await redis.numsub('app1:room', 'app2:room'), { 'app1:room': 1, 'app2:room': 1 });
    pub1.wss.publish('room', 'for app1');
    assert.deepEqual(
      (await c1.inbox.until(1)).map((m) => m.data),
      ['for app1'],
    );
    // Had 'for app1' reached app2's channel, Redis would have pushed it before this one.
    pub2.wss.publish('room', 'for app2');
    assert.deepEqual(
      (await c2.inbox.until(1)).map((m) => m.data),
      ['for app2'],
    );
  });

  it('close() quits the clients it created', async () => {
    const broker = new RedisBroker({ url: redis.url, redisOptions: { connectionName: 'closing-test' } });
    await broker.ready();
    const named = async () => (await redis.clientList()).filter((c) => c.name === 'closing-test').length;
    assert.equal(await named(), 2);
    await broker.close();
    assert.equal(await named(), 0);
    assert.equal(broker.connected, false);
    await assert.rejects(broker.ready(), { code: 'WS_ERR_BROKER_UNAVAILABLE', message: /closed/ });
  });

  it('close() leaves clients given to it open, with its channels unsubscribed', async () => {
    const publisher = new Redis(redis.url);
    const subscriber = new Redis(redis.url);
    defer(() => {
      publisher.disconnect();
      subscriber.disconnect();
    });
    const broker = new RedisBroker({ publisher, subscriber, prefix: 'given:' });
    const s = await serve({ broker });
    await open(s.url);
    [...s.wss.clients][0].subscribe('mine');
    await broker.ready();
    assert.deepEqual(await redis.numsub('given:mine'), { 'given:mine': 1 });
    await new Promise((resolve) => s.wss.close(resolve));
    await broker.close();
    assert.deepEqual(await redis.numsub('given:mine', 'given:\u0000broadcast'), {
      'given:mine': 0,
      'given:\u0000broadcast': 0,
    });
    assert.equal(await publisher.ping(), 'PONG');
    assert.equal(subscriber.status, 'ready');
  });

  it('a publisher given alone gets a duplicate as subscriber, closed with the broker', async () => {
    const publisher = new Redis(redis.url, { connectionName: 'alone' });
    defer(() => publisher.disconnect());
    const broker = new RedisBroker({ publisher });
    await broker.ready();
    const named = async () => (await redis.clientList()).filter((c) => c.name === 'alone').length;
    assert.equal(await named(), 1, 'the publisher; the duplicate is named wskit-subscriber');
    await broker.close();
    assert.equal(publisher.status, 'ready');
  });

  it('refuses one client as both publisher and subscriber, and a prefix that is not a string', () => {
    const both = new Redis(redis.url, { lazyConnect: true });
    assert.throws(() => new RedisBroker({ publisher: both, subscriber: both }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
    assert.throws(() => new RedisBroker({ prefix: 1 as unknown as string }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});
