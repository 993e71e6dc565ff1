// Durable topics through Redis, against a real redis-server the tests start on a free loopback port:
// servers with a RedisBroker each in this process, then server processes (fixtures/topics-process.ts)
// killed mid-stream, Redis restarted mid-stream, retention exceeded, presence after a crash. Every
// wait is on an event, with a deadline.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { RedisBroker } from '../../src/index.js';
import { durableKeys } from '../../src/pubsub/durable/redis-scripts.js';
import { client, defer, next, runCleanups, serve } from '../node/helpers.js';
import { Inbox, RedisServer, stopProcesses, TopicsProcess } from './redis-helpers.js';
import { type Reply, TopicsPeer } from './topics-peer.js';

afterEach(runCleanups);
after(stopProcesses);

const offsets = (messages: Reply[]) => messages.map((m) => m.offset);
/** Resolves at time `t` (ms since the epoch): for retention by age, where real time is the feature. */
async function untilTime(t: number): Promise<void> {
  while (Date.now() < t) await setTimeout(t - Date.now());
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Kills a server process (SIGKILL: no goodbye to Redis or its clients) and waits for it to exit. */
async function kill(p: TopicsProcess): Promise<void> {
  if (!p.running) return;
  const exited = next(p.child, 'exit');
  p.child.kill('SIGKILL');
  await exited;
}

function peer(url: string): Promise<TopicsPeer> {
  return TopicsPeer.open(url, defer);
}

/** A server with a RedisBroker of its own (as if in a process of its own), closed after the test. */
async function redisServer(
  redisUrl: string,
  durable: object | true = true,
  presenceTtl?: number,
  redisOptions?: Record<string, unknown>,
) {
  const broker = new RedisBroker({ url: redisUrl, presenceTtl, redisOptions });
  const s = await serve({ broker, durable });
  defer(() => broker.close());
  await broker.ready();
  return { ...s, broker };
}

describe('durable topics on a Redis Cluster (one node holding every slot)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start({ cluster: true });
  });
  after(() => redis.kill());

  it("a topic's keys are in one slot (the hash tag {length:topic}), whatever the topic and prefix", async () => {
    const { key, ...names } = durableKeys('wskit:', 'room');
    assert.deepEqual(names, {
      stream: 'wskit:s:{4:room}',
      meta: 'wskit:m:{4:room}',
      presence: 'wskit:p:{4:room}',
      presenceInfo: 'wskit:pi:{4:room}',
    });
    assert.equal(key('k1'), 'wskit:k:{4:room}:k1');
    for (const prefix of ['wskit:', '', '{app}:', 'a}b:']) {
      for (const topic of ['room', 'a}b', '}x', '{', 'x{y}z', 'chat/ünï', ':']) {
        const k = durableKeys(prefix, topic);
        const slots = await redis.keyslots([
          k.stream,
          k.meta,
          k.key('some key'),
          k.key('}{'),
          k.presence,
          k.presenceInfo,
        ]);
        assert.equal(new Set(slots).size, 1, `one slot for ${JSON.stringify([prefix, topic])}: ${slots}`);
      }
    }
    assert.notEqual(durableKeys('wskit:', 'a}:b').key('c'), durableKeys('wskit:', 'a').key('b}:c'));
    for (const prefix of ['{app:', 'x{}:', '{']) {
      assert.throws(() => new RedisBroker({ url: redis.url, prefix }), { code: 'WS_ERR_INVALID_ARGUMENT' });
    }
  });

  it('publish with key, resume, retention, presence: every script runs on the cluster (no CROSSSLOT)', async () => {
    const one = await redisServer(redis.url, { history: { maxCount: 3 } });
    const two = await redisServer(redis.url, { history: { maxCount: 3 } });
    const errors: Error[] = [];
    for (const s of [one, two]) s.wss.on('brokerError', (err: Error) => errors.push(err));
    const a = await peer(one.url);
    const sub = await a.request({ type: 'subscribe', topic: 'c/room', presence: { info: 'ann' } });
    assert.equal(sub.type, 'subscribed', JSON.stringify(sub));
    await a.until((r) => r.type === 'join');
    const first = await a.request({ type: 'publish', topic: 'c/room', data: 'm1', key: 'k1' });
    const again = await a.request({ type: 'publish', topic: 'c/room', data: 'm1', key: 'k1' });
    assert.deepEqual([first.type, again.offset], ['ack', first.offset]);
    for (let i = 2; i <= 5; i++) await two.wss.durable!.publish('c/room', `m${i}`);
    assert.deepEqual(await a.data('c/room', 5), ['m1', 'm2', 'm3', 'm4', 'm5']);
    const b = await peer(two.url);
    const resumed = await b.request({
      type: 'subscribe',
      topic: 'c/room',
      since: { offset: 1, epoch: sub.epoch },
      presence: { info: 'bob' },
    });
    assert.deepEqual(resumed.gap, { reason: 'retention', from: 2, to: 2 });
    assert.deepEqual(await b.data('c/room', 3), ['m3', 'm4', 'm5']);
    await a.until((r) => r.type === 'join', 2);
    const list = await b.request({ type: 'presence', topic: 'c/room' });
    assert.deepEqual((list.members as { info: unknown }[]).map((m) => m.info).sort(), ['ann', 'bob']);
    await b.request({ type: 'unsubscribe', topic: 'c/room' });
    await a.until((r) => r.type === 'leave');
    assert.deepEqual(errors, []);
  });
});

describe('durable topics through Redis, servers in this process', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.kill());

  it('offsets are one order for every server; a subscriber resumes on the other server', async () => {
    const one = await redisServer(redis.url);
    const two = await redisServer(redis.url);
    const a = await peer(one.url);
    const b = await peer(two.url);
    const sa = await a.request({ type: 'subscribe', topic: 'order' });
    const sb = await b.request({ type: 'subscribe', topic: 'order' });
    assert.equal(sa.epoch, sb.epoch);
    // Both servers publish at once, interleaved.
    const published = await Promise.all(
      range(1, 40).map((i) => (i % 2 ? one.wss : two.wss).durable!.publish('order', `m${i}`)),
    );
    assert.deepEqual(
      published.map((p) => p.offset).sort((x, y) => x - y),
      range(1, 40),
    );
    const ma = await a.until((r) => r.type === 'message', 40);
    const mb = await b.until((r) => r.type === 'message', 40);
    assert.deepEqual(offsets(ma), range(1, 40));
    assert.deepEqual(
      ma.map((m) => m.data),
      mb.map((m) => m.data),
      'the same order on both servers',
    );
    // a leaves; what is published meanwhile is replayed on the other server.
    a.ws.terminate();
    for (let i = 41; i <= 45; i++) await one.wss.durable!.publish('order', `m${i}`);
    const c = await peer(two.url);
    const reply = await c.request({
      type: 'subscribe',
      topic: 'order',
      since: { offset: 40, epoch: sa.epoch },
    });
    assert.deepEqual([reply.recovered, reply.offset], [true, 45]);
    await one.wss.durable!.publish('order', 'm46');
    assert.deepEqual(offsets(await c.until((r) => r.type === 'message', 6)), range(41, 46));
  });

  it('acks, keys, history: n, retention gap, read() and plain subscribers through Redis', async () => {
    const one = await redisServer(redis.url, { history: { maxCount: 5 } });
    const two = await redisServer(redis.url, { history: { maxCount: 5 } });
    two.wss.on('connection', (ws) => {
      if (ws.protocol === '') ws.subscribe('ret');
    });
    const plain = client(two.url);
    const inbox = new Inbox(plain);
    await next(plain, 'open');
    await two.broker.ready();
    const p = await peer(one.url);
    const first = await p.request({ type: 'publish', topic: 'ret', data: 'm1', key: 'k1' });
    const again = await p.request({ type: 'publish', topic: 'ret', data: 'm1', key: 'k1' });
    assert.deepEqual([first.offset, again.offset, again.epoch], [1, 1, first.epoch]);
    for (let i = 2; i <= 9; i++) await p.request({ type: 'publish', topic: 'ret', data: `m${i}` });
    assert.deepEqual(
      (await inbox.until(9)).map((m) => m.data),
      range(1, 9).map((i) => `m${i}`),
    );
    const q = await peer(two.url);
    const gap = await q.request({
      type: 'subscribe',
      topic: 'ret',
      since: { offset: 1, epoch: first.epoch },
    });
    assert.deepEqual(gap.gap, { reason: 'retention', from: 2, to: 4 });
    assert.deepEqual(offsets(await q.until((r) => r.type === 'message', 5)), range(5, 9));
    const h = await peer(two.url);
    await h.request({ type: 'subscribe', topic: 'ret', history: 2 });
    assert.deepEqual(await h.data('ret', 2), ['m8', 'm9']);
    const read = await one.wss.durable!.read('ret', { since: { offset: 7, epoch: first.epoch as string } });
    assert.deepEqual([read.recovered, read.messages.map((m) => m.data.toString())], [true, ['m8', 'm9']]);
    const binary = await one.wss.durable!.publish('ret', Buffer.from([1, 2, 3]));
    const [m] = await q.until((r) => r.type === 'message' && r.offset === binary.offset);
    assert.deepEqual([m.binary, Buffer.from(m.data as string, 'base64')], [true, Buffer.from([1, 2, 3])]);
    assert.equal((await inbox.until(10))[9].isBinary, true);
  });

  it('retention by age in Redis: entries older than maxAge are trimmed (Lua trimAge), the younger ones replayed', async () => {
    const maxAge = 600;
    const one = await redisServer(redis.url, { history: { maxAge } });
    const two = await redisServer(redis.url, { history: { maxAge } });
    const { epoch } = await one.wss.durable!.publish('aged', 'm1');
    const m1Stored = Date.now();
    await untilTime(m1Stored + maxAge / 2);
    const m2Before = Date.now();
    await one.wss.durable!.publish('aged', 'm2');
    const early = await two.wss.durable!.read('aged', { since: { offset: 0, epoch } });
    assert.deepEqual([early.recovered, early.messages.map((m) => m.offset)], [true, [1, 2]]);
    // m1 is past maxAge, m2 is not (the stream itself lives on: m2 renewed its expiry): trimmed by age.
    await untilTime(m1Stored + maxAge + 50);
    await one.wss.durable!.publish('aged', 'm3');
    const p = await peer(two.url);
    const reply = await p.request({ type: 'subscribe', topic: 'aged', since: { offset: 0, epoch } });
    assert.ok(Date.now() < m2Before + maxAge, 'read before m2 was due to go (else this test says nothing)');
    assert.equal(reply.epoch, epoch);
    assert.equal(reply.recovered, false);
    assert.deepEqual(reply.gap, { reason: 'retention', from: 1, to: 1 });
    assert.equal(reply.offset, 3);
    assert.deepEqual(await p.data('aged', 2), ['m2', 'm3']);
    assert.deepEqual(offsets(p.messages('aged')), [2, 3]);
    // Nothing published after: past maxAge the read finds nothing retained, same epoch, same offset.
    await untilTime(Date.now() + maxAge + 50);
    const idle = await one.wss.durable!.read('aged', { since: { offset: 0, epoch } });
    assert.deepEqual([idle.epoch, idle.offset, idle.recovered, idle.messages], [epoch, 3, false, []]);
  });

  it('in Redis a key is remembered for maxAge, even after its message was trimmed by count', async () => {
    const one = await redisServer(redis.url, { history: { maxCount: 2 } });
    const first = await one.wss.durable!.publish('kc', 'x', { key: 'abc' });
    for (let i = 0; i < 200; i++) await one.wss.durable!.publish('kc', `m${i}`);
    const read = await one.wss.durable!.read('kc');
    assert.ok(
      read.messages.every((m) => m.offset > 1),
      'the first message is trimmed',
    );
    const again = await one.wss.durable!.publish('kc', 'x', { key: 'abc' });
    assert.deepEqual([again.offset, again.duplicate], [first.offset, true]);
  });

  it('a subscription misses nothing while its process is cut from Redis: it reads the missed messages when back', async () => {
    const one = await redisServer(redis.url, true, undefined, { connectionName: 'cut-off' });
    const two = await redisServer(redis.url);
    one.wss.on('brokerError', () => {});
    const a = await peer(one.url);
    await a.request({ type: 'subscribe', topic: 'cut' });
    for (let i = 1; i <= 5; i++) await two.wss.durable!.publish('cut', `m${i}`);
    await a.until((r) => r.type === 'message', 5);
    // Cut process one's subscriber connection and keep it from coming back (no free client slot).
    const admin = redis.client();
    defer(async () => {
      await admin.call('CONFIG', 'SET', 'maxclients', '10000').catch(() => {});
      admin.disconnect();
    });
    const clients = await redis.clientList();
    const subscriber = clients.find((c) => c.name === 'cut-off' && Number(c.sub) > 0)!;
    await admin.call('CONFIG', 'SET', 'maxclients', String(clients.length - 1));
    const unavailable = next(one.broker, 'unavailable');
    await admin.call('CLIENT', 'KILL', 'ID', subscriber.id);
    await unavailable;
    for (let i = 6; i <= 10; i++) await two.wss.durable!.publish('cut', `m${i}`);
    assert.equal(a.messages('cut').length, 5, 'nothing reached process one meanwhile');
    const back = next(one.broker, 'ready', 10_000);
    await admin.call('CONFIG', 'SET', 'maxclients', '10000');
    await back;
    // Read from the history on reconnection, with no later message to reveal the hole.
    assert.deepEqual(offsets(await a.until((r) => r.type === 'message', 10)), range(1, 10));
    await two.wss.durable!.publish('cut', 'm11');
    const all = await a.until((r) => r.type === 'message', 11);
    assert.deepEqual(offsets(all), range(1, 11));
    assert.deepEqual(
      all.map((m) => m.data),
      range(1, 11).map((i) => `m${i}`),
    );
  });

  it('presence across servers: joins, the list, leaves on close', async () => {
    const one = await redisServer(redis.url);
    const two = await redisServer(redis.url);
    const a = await peer(one.url);
    const b = await peer(two.url);
    await a.request({ type: 'subscribe', topic: 'lobby', presence: { info: 'ann' } });
    await a.until((r) => r.type === 'join');
    await b.request({ type: 'subscribe', topic: 'lobby', presence: { info: 'bob' } });
    const joins = await a.until((r) => r.type === 'join', 2);
    assert.deepEqual(
      joins.map((j) => (j.member as Reply).info),
      ['ann', 'bob'],
    );
    const list = await a.request({ type: 'presence', topic: 'lobby' });
    assert.deepEqual((list.members as Reply[]).map((m) => m.info).sort(), ['ann', 'bob']);
    b.ws.terminate();
    const [leave] = await a.until((r) => r.type === 'leave');
    assert.equal((leave.member as Reply).info, 'bob');
    assert.deepEqual(
      (await one.wss.durable!.presence('lobby')).map((m) => m.info),
      ['ann'],
    );
  });
});

describe('durable topics through Redis: server processes killed, Redis restarted', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await stopProcesses();
    await redis.kill();
  });

  it('a subscriber resumed on the other process after its own was killed mid-stream gets every message once, in order', async () => {
    const [one, two] = await Promise.all([
      TopicsProcess.start(redis.url, { servers: 1, durable: true }),
      TopicsProcess.start(redis.url, { servers: 1, durable: true }),
    ]);
    await Promise.all([one.request('ready'), two.request('ready')]);
    const a = await peer(one.url(0));
    const sub = await a.request({ type: 'subscribe', topic: 'stream' });
    // Publishing from process two all along (a stream that lasts ≥ 300 ms); process one is killed in
    // the middle of it.
    const publishing = two.request<number[]>(
      'publishDurableMany',
      { server: 0, topic: 'stream', count: 300, from: 1, intervalMs: 1 },
      30_000,
    );
    let published = false;
    publishing.then(() => (published = true));
    await a.until((r) => r.type === 'message', 50, 10_000);
    const closing = next(a.ws, 'close');
    await kill(one);
    await closing;
    assert.equal(published, false, 'killed while the stream was being published');
    const seen = a.messages('stream');
    const last = seen.at(-1)!.offset as number;
    assert.ok(last < 300, `killed mid-stream: it had ${last} of 300`);
    assert.deepEqual(offsets(seen), range(1, last));
    const b = await peer(two.url(0));
    const reply = await b.request({
      type: 'subscribe',
      topic: 'stream',
      since: { offset: last, epoch: sub.epoch },
    });
    assert.equal(reply.recovered, true);
    assert.deepEqual(await publishing, range(1, 300));
    const rest = await b.until((r) => r.type === 'message', 300 - last, 10_000);
    assert.deepEqual(offsets(rest), range(last + 1, 300), 'the rest, each once, in order');
    assert.deepEqual(
      [...seen, ...rest].map((m) => m.data),
      range(1, 300).map((i) => `m${i}`),
    );
    await kill(two);
  });

  it('presence after a crash: the dead process members leave once their entries expire', async () => {
    const [one, two] = await Promise.all([
      TopicsProcess.start(redis.url, { servers: 1, durable: true, presenceTtl: 1000 }),
      TopicsProcess.start(redis.url, { servers: 1, durable: true, presenceTtl: 1000 }),
    ]);
    await Promise.all([one.request('ready'), two.request('ready')]);
    const a = await peer(one.url(0));
    const b = await peer(two.url(0));
    await a.request({ type: 'subscribe', topic: 'crash', presence: { info: 'survivor' } });
    await b.request({ type: 'subscribe', topic: 'crash', presence: { info: 'victim' } });
    const [, victim] = await a.until((r) => r.type === 'join', 2);
    assert.equal((victim.member as Reply).info, 'victim');
    await kill(two);
    // No close reached Redis: the entry goes when it is not renewed (1 s), reaped by process one.
    const [leave] = await a.until((r) => r.type === 'leave', 1, 5_000);
    assert.deepEqual(leave.member, victim.member);
    // The survivor joined before the victim, more than one TTL ago: only renewals kept it there.
    const list = await a.request({ type: 'presence', topic: 'crash' });
    assert.deepEqual(
      (list.members as Reply[]).map((m) => m.info),
      ['survivor'],
    );
    assert.equal(a.received.filter((r) => r.type === 'leave').length, 1, 'one leave, for the victim only');
    await kill(one);
  });

  it("server-side members (durable.join()) of a killed process leave a watcher's view once their entries expire", async () => {
    const dead = await TopicsProcess.start(redis.url, { servers: 1, durable: true, presenceTtl: 1000 });
    await dead.request('ready');
    const here = await redisServer(redis.url, true, 1000);
    const changes: string[] = [];
    let wake = () => {};
    const watch = here.wss.durable!.watchPresence('crash2', (change, m) => {
      changes.push(`${change} ${m.client}`);
      wake();
    });
    defer(() => watch.close());
    await watch.ready;
    const until = (what: string) =>
      new Promise<void>((resolve) => {
        wake = () => changes.includes(what) && resolve();
        wake();
      });
    await here.wss.durable!.join('crash2', { client: 'alive', info: 'here' });
    await dead.request('joinPresence', { server: 0, topic: 'crash2', client: 'gone', info: 'there' });
    await Promise.race([
      until('join gone'),
      setTimeout(5_000).then(() => assert.fail(`no join: ${changes}`)),
    ]);
    await kill(dead);
    // Not renewed any more: expired after 1 s, reaped by this process's renewal, a leave for it.
    await Promise.race([
      until('leave gone'),
      setTimeout(5_000).then(() => assert.fail(`no leave: ${changes}`)),
    ]);
    assert.deepEqual([...watch.members.keys()], ['alive']);
    assert.deepEqual(
      (await here.wss.durable!.presence('crash2')).map((m) => m.client),
      ['alive'],
    );
  });
});

describe('durable topics through Redis: Redis restarted mid-stream, two server processes', () => {
  it('publishes fail during the outage; after it, live subscribers are told of the new epoch and get its messages in order', async () => {
    const redis = await RedisServer.start();
    defer(() => redis.kill());
    const [one, two] = await Promise.all([
      TopicsProcess.start(redis.url, { servers: 1, durable: true }),
      TopicsProcess.start(redis.url, { servers: 1, durable: true }),
    ]);
    defer(() => Promise.all([kill(one), kill(two)]));
    await Promise.all([one.request('ready'), two.request('ready')]);
    const a = await peer(one.url(0));
    const first = await a.request({ type: 'subscribe', topic: 'live' });
    type Tried = { ok: boolean; offset?: number; epoch?: string; code?: string };
    const publish = (data: string) =>
      two.request<Tried>('tryPublishDurable', { server: 0, topic: 'live', data });
    for (let i = 1; i <= 20; i++) assert.equal((await publish(`a${i}`)).ok, true);
    await a.until((r) => r.type === 'message', 20);
    await redis.kill();
    const refused = await publish('lost');
    assert.deepEqual(refused, { ok: false, code: 'WS_ERR_BROKER_UNAVAILABLE' });
    await redis.start();
    await Promise.all([one.request('ready', {}, 15_000), two.request('ready', {}, 15_000)]);
    const after: Tried[] = [];
    for (let i = 1; i <= 20; i++) after.push(await publish(`b${i}`));
    assert.ok(after.every((r) => r.ok && r.epoch === after[0].epoch));
    assert.notEqual(after[0].epoch, first.epoch);
    assert.deepEqual(
      after.map((r) => r.offset),
      range(1, 20),
    );
    const b = await a.until((r) => r.type === 'message' && r.epoch === after[0].epoch, 20);
    assert.deepEqual(
      b.map((m) => m.data),
      range(1, 20).map((i) => `b${i}`),
      'the new epoch, each once, in order',
    );
    const notices = a.received.filter((r) => r.type === 'subscribed' && r.id === undefined);
    assert.ok(notices.length >= 1 && notices.every((n) => (n.gap as Reply).reason === 'epoch'));
    assert.ok(a.received.indexOf(notices[0]) < a.received.indexOf(b[0]), 'told before the new messages');
    assert.equal(a.messages('live').filter((m) => m.data === 'lost').length, 0);
  });
});

describe('durable topics through Redis: Redis restarted mid-stream', () => {
  it('the new epoch is signalled to live subscribers and to resuming ones; publishing fails during the outage', async () => {
    const redis = await RedisServer.start();
    defer(() => redis.kill());
    const one = await redisServer(redis.url);
    const two = await redisServer(redis.url);
    one.wss.on('brokerError', () => {});
    two.wss.on('brokerError', () => {});
    const a = await peer(one.url);
    const sub = await a.request({ type: 'subscribe', topic: 'r' });
    for (let i = 1; i <= 5; i++) await two.wss.durable!.publish('r', `m${i}`);
    await a.until((r) => r.type === 'message', 5);
    await redis.kill();
    await assert.rejects(two.wss.durable!.publish('r', 'lost'), { code: 'WS_ERR_BROKER_UNAVAILABLE' });
    const pub = await peer(two.url);
    const refused = await pub.request({ type: 'publish', topic: 'r', data: 'refused' });
    assert.deepEqual([refused.type, refused.code], ['error', 'unavailable']);
    await redis.start();
    await Promise.all(
      [next(one.broker, 'ready', 10_000), next(two.broker, 'ready', 10_000)].map((p) => p.catch(() => {})),
    );
    await Promise.all([one.broker.ready(), two.broker.ready()]);
    const after = await two.wss.durable!.publish('r', 'm6');
    assert.notEqual(after.epoch, sub.epoch, 'a new epoch: Redis lost the history');
    assert.equal(after.offset, 1);
    const [notice] = await a.until((r) => r.type === 'subscribed' && r.id === undefined);
    assert.deepEqual(
      [notice.epoch, notice.recovered, (notice.gap as Reply).reason],
      [after.epoch, false, 'epoch'],
    );
    const [m6] = await a.until((r) => r.type === 'message' && r.data === 'm6');
    assert.deepEqual([m6.offset, m6.epoch], [1, after.epoch]);
    assert.ok(a.received.indexOf(notice) < a.received.indexOf(m6));
    // A client resuming with the old epoch is told too.
    const c = await peer(one.url);
    const reply = await c.request({ type: 'subscribe', topic: 'r', since: { offset: 5, epoch: sub.epoch } });
    assert.deepEqual(
      [reply.recovered, (reply.gap as Reply).reason, reply.epoch],
      [false, 'epoch', after.epoch],
    );
  });
});
