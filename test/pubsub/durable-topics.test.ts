// Durable topics in one process (InMemoryBroker): the wskit.topics.v1 protocol end to end over
// loopback, history, offsets, epoch, resume, keys, presence, authorization, and plain subscribers
// sharing durable topics. Every wait is on an event, with a deadline.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { InMemoryBroker, type ServerOptions, type WebSocketError } from '../../src/index.js';
import { client, closed, defer, next, runCleanups, serve, within } from '../node/helpers.js';
import { Inbox } from './redis-helpers.js';
import { type Reply, TopicsPeer } from './topics-peer.js';

afterEach(runCleanups);

async function durableServer(options: Omit<ServerOptions, 'port' | 'host'> = {}) {
  return serve({ durable: true, ...options });
}

function peer(url: string): Promise<TopicsPeer> {
  return TopicsPeer.open(url, defer);
}

const offsets = (messages: Reply[]) => messages.map((m) => m.offset);

/** Resolves at time `t` (ms since the epoch): for retention by age, where real time is the feature. */
async function untilTime(t: number): Promise<void> {
  while (Date.now() < t) await setTimeout(t - Date.now());
}

describe('durable topics: wskit.topics.v1', () => {
  it('selects the subprotocol when offered; other connections get none and work as before', async () => {
    const { url } = await durableServer();
    const p = await peer(url);
    assert.equal(p.ws.protocol, 'wskit.topics.v1');
    const plain = client(url, ['other', 'more']);
    await next(plain, 'open');
    assert.equal(plain.protocol, 'other');
  });

  it('publish is acked with consecutive offsets and one epoch; subscribers get the messages in order', async () => {
    const { url } = await durableServer();
    const sub = await peer(url);
    const reply = await sub.request({ type: 'subscribe', topic: 'room' });
    assert.equal(reply.type, 'subscribed');
    assert.equal(reply.offset, 0);
    assert.equal(reply.recovered, false);
    assert.equal(reply.gap, undefined);
    const pub = await peer(url);
    const acks = [];
    for (let i = 1; i <= 5; i++)
      acks.push(await pub.request({ type: 'publish', topic: 'room', data: `m${i}` }));
    assert.deepEqual(offsets(acks), [1, 2, 3, 4, 5]);
    assert.ok(acks.every((a) => a.type === 'ack' && a.epoch === reply.epoch && a.topic === 'room'));
    assert.deepEqual(await sub.data('room', 5), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.deepEqual(offsets(sub.messages('room')), [1, 2, 3, 4, 5]);
    assert.ok(sub.messages('room').every((m) => m.epoch === reply.epoch));
    // Binary, as base64.
    const bytes = Buffer.from([0, 1, 2, 255]);
    await pub.request({ type: 'publish', topic: 'room', data: bytes.toString('base64'), binary: true });
    const [binary] = await sub.until((r) => r.type === 'message' && r.offset === 6);
    assert.equal(binary.binary, true);
    assert.deepEqual(Buffer.from(binary.data as string, 'base64'), bytes);
  });

  it('resume with since: every missed message once, in order, then live ones without duplicate', async () => {
    const { url, wss } = await durableServer();
    const first = await peer(url);
    const subscribed = await first.request({ type: 'subscribe', topic: 'feed' });
    for (let i = 1; i <= 3; i++) await wss.durable!.publish('feed', `m${i}`);
    await first.data('feed', 3);
    first.ws.terminate();
    for (let i = 4; i <= 6; i++) await wss.durable!.publish('feed', `m${i}`);
    const again = await peer(url);
    const reply = await again.request({
      type: 'subscribe',
      topic: 'feed',
      since: { offset: 3, epoch: subscribed.epoch },
    });
    assert.equal(reply.recovered, true);
    assert.equal(reply.offset, 6);
    assert.equal(reply.gap, undefined);
    await wss.durable!.publish('feed', 'm7');
    assert.deepEqual(await again.data('feed', 4), ['m4', 'm5', 'm6', 'm7']);
    assert.deepEqual(offsets(again.messages('feed')), [4, 5, 6, 7]);
  });

  it('messages published while the history is being replayed come after it, each once', async () => {
    const { url, wss } = await durableServer();
    for (let i = 1; i <= 50; i++) await wss.durable!.publish('busy', `m${i}`);
    const p = await peer(url);
    const epoch = (await wss.durable!.read('busy')).epoch;
    p.send({ type: 'subscribe', id: 1, topic: 'busy', since: { offset: 10, epoch } });
    // Published in the same turns as the subscribe is handled.
    const publishing = Array.from({ length: 50 }, (_, i) => wss.durable!.publish('busy', `m${51 + i}`));
    await Promise.all(publishing);
    const messages = await p.until((r) => r.type === 'message', 90);
    assert.deepEqual(
      offsets(messages),
      Array.from({ length: 90 }, (_, i) => 11 + i),
    );
    const reply = p.received.find((r) => r.type === 'subscribed')!;
    assert.equal(reply.recovered, true);
    assert.ok(p.received.indexOf(reply) < p.received.indexOf(messages[0]), 'subscribed comes first');
  });

  it('a slow subscriber is sent nothing while over maxBackpressure, and catches up once it drains, with nothing published after', async () => {
    const { url, wss } = await durableServer({ maxBackpressure: 0 });
    const p = await peer(url);
    await p.request({ type: 'subscribe', topic: 'slow' });
    // In one turn: after the first, the connection has bytes waiting (over 0): the others are held
    // back. Nothing is published after them: the connection draining is what sends them.
    const sent = Array.from({ length: 20 }, (_, i) => `m${i + 1}`);
    await Promise.all(sent.map((m) => wss.durable!.publish('slow', m)));
    assert.ok(wss.droppedMessages >= 1, 'held back, and counted');
    assert.deepEqual(await p.data('slow', 20), sent);
    // Each once: a request answered after them, and still 20, in offset order.
    await p.request({ type: 'ping' });
    assert.deepEqual(
      offsets(p.messages('slow')),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('a subscriber that stops reading gets every message once, in order, when it reads again (nothing published after)', async () => {
    const { url, wss } = await durableServer({ maxBackpressure: 64 * 1024 });
    const p = await peer(url);
    await p.request({ type: 'subscribe', topic: 'paused' });
    p.ws.pause();
    // Enough to fill the socket buffers of the loopback: the server's send buffer passes the bound.
    const big = 'x'.repeat(32 * 1024);
    const total = 300;
    for (let i = 1; i <= total; i++) await wss.durable!.publish('paused', `${i} ${big}`);
    assert.ok(wss.droppedMessages >= 1, 'some were held back while it did not read');
    p.ws.resume();
    const messages = await p.until((r) => r.type === 'message', total, 20_000);
    assert.deepEqual(
      offsets(messages),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    await p.request({ type: 'ping' });
    assert.equal(p.messages('paused').length, total, 'each once');
  });

  it('topics used once do not stay in memory: a topic with nothing retained and nobody subscribed is forgotten', async () => {
    const broker = new InMemoryBroker();
    const { url, wss } = await durableServer({ broker, durable: { history: { maxAge: 60_000 } } });
    const held = () => (broker as unknown as { histories: Map<string, unknown> }).histories.size;
    const p = await peer(url);
    for (let i = 0; i < 50; i++) {
      await p.request({ type: 'subscribe', topic: `t${i}`, presence: { info: i } });
      await p.request({ type: 'unsubscribe', topic: `t${i}` });
      await wss.durable!.read(`r${i}`);
    }
    assert.equal(held(), 0);
    // One with a retained message stays, with its epoch.
    const { epoch } = await wss.durable!.publish('kept', 'x');
    assert.equal((await wss.durable!.read('kept')).epoch, epoch);
    assert.equal(held(), 1);
  });

  it('history: n gives the last n messages on a first subscribe', async () => {
    const { url, wss } = await durableServer();
    for (let i = 1; i <= 10; i++) wss.publish('chat', `m${i}`);
    const p = await peer(url);
    const reply = await p.request({ type: 'subscribe', topic: 'chat', history: 3 });
    assert.equal(reply.offset, 10);
    assert.deepEqual(await p.data('chat', 3), ['m8', 'm9', 'm10']);
  });

  it('retention exceeded: the gap is reported, the retained messages follow', async () => {
    const { url, wss } = await durableServer({ durable: { history: { maxCount: 3 } } });
    const { epoch } = await wss.durable!.publish('t', 'm1');
    for (let i = 2; i <= 8; i++) await wss.durable!.publish('t', `m${i}`);
    const p = await peer(url);
    const reply = await p.request({ type: 'subscribe', topic: 't', since: { offset: 2, epoch } });
    assert.equal(reply.recovered, false);
    assert.deepEqual(reply.gap, { reason: 'retention', from: 3, to: 5 });
    assert.deepEqual(await p.data('t', 3), ['m6', 'm7', 'm8']);
  });

  it('maxAge 0 stores nothing: a resume from the start gets a gap to the last offset', async () => {
    const { url, wss } = await durableServer({ durable: { history: { maxAge: 0 } } });
    const { epoch } = await wss.durable!.publish('t', 'gone');
    const p = await peer(url);
    const reply = await p.request({ type: 'subscribe', topic: 't', since: { offset: 0, epoch } });
    assert.deepEqual(reply.gap, { reason: 'retention', from: 1, to: 1 });
    assert.equal(reply.offset, 1);
  });

  it('retention by age: messages older than maxAge are trimmed, the younger ones replayed; an idle topic is trimmed when read', async () => {
    const maxAge = 600;
    const { url, wss } = await durableServer({ durable: { history: { maxAge } } });
    const { epoch } = await wss.durable!.publish('aged', 'm1');
    const m1Stored = Date.now();
    await untilTime(m1Stored + maxAge / 2);
    const m2Before = Date.now();
    await wss.durable!.publish('aged', 'm2');
    // Both retained for now.
    const early = await wss.durable!.read('aged', { since: { offset: 0, epoch } });
    assert.deepEqual([early.recovered, early.messages.map((m) => m.offset)], [true, [1, 2]]);
    // m1 is past maxAge, m2 is not: the next publish trims m1 only.
    await untilTime(m1Stored + maxAge + 50);
    await wss.durable!.publish('aged', 'm3');
    const p = await peer(url);
    const reply = await p.request({ type: 'subscribe', topic: 'aged', since: { offset: 0, epoch } });
    assert.ok(Date.now() < m2Before + maxAge, 'read before m2 was due to go (else this test says nothing)');
    assert.equal(reply.epoch, epoch);
    assert.equal(reply.recovered, false);
    assert.deepEqual(reply.gap, { reason: 'retention', from: 1, to: 1 });
    assert.equal(reply.offset, 3);
    assert.deepEqual(await p.data('aged', 2), ['m2', 'm3']);
    assert.deepEqual(offsets(p.messages('aged')), [2, 3]);
    // Nothing published after: a read trims by age too (m2, m3 gone; the subscriber keeps the epoch).
    const m3Stored = Date.now();
    await untilTime(m3Stored + maxAge + 50);
    const idle = await wss.durable!.read('aged', { since: { offset: 0, epoch } });
    assert.deepEqual([idle.epoch, idle.offset, idle.recovered, idle.messages], [epoch, 3, false, []]);
  });

  it('another epoch: the gap says so, and the history of the new one is replayed from its start', async () => {
    const { url, wss } = await durableServer();
    await wss.durable!.publish('t', 'm1');
    const p = await peer(url);
    const reply = await p.request({
      type: 'subscribe',
      topic: 't',
      since: { offset: 7, epoch: 'old-epoch' },
    });
    assert.equal(reply.recovered, false);
    assert.deepEqual(reply.gap, { reason: 'epoch', from: 1, to: 0 });
    await wss.durable!.publish('t', 'm2');
    assert.deepEqual(await p.data('t', 2), ['m1', 'm2']);
    // An offset past the last of the same epoch is not this history's either: nothing replayed.
    const q = await peer(url);
    const future = await q.request({
      type: 'subscribe',
      topic: 't',
      since: { offset: 9, epoch: reply.epoch },
    });
    assert.deepEqual(future.gap, { reason: 'epoch', from: 1, to: 2 });
    await wss.durable!.publish('t', 'm3');
    assert.deepEqual(await q.data('t', 1), ['m3']);
  });

  it('a publish sent again with the same key is stored once and acked with the first offset', async () => {
    const { url, wss } = await durableServer();
    const p = await peer(url);
    await p.request({ type: 'subscribe', topic: 'k' });
    const a = await p.request({ type: 'publish', topic: 'k', data: 'x', key: 'abc' });
    const b = await p.request({ type: 'publish', topic: 'k', data: 'x', key: 'abc' });
    const c = await p.request({ type: 'publish', topic: 'k', data: 'y', key: 'def' });
    assert.deepEqual(offsets([a, b, c]), [1, 1, 2]);
    assert.deepEqual(await p.data('k', 2), ['x', 'y']);
    assert.equal((await wss.durable!.read('k')).messages.length, 2);
    const again = await wss.durable!.publish('k', 'x', { key: 'abc' });
    assert.deepEqual([again.offset, again.duplicate], [1, true]);
  });

  it('in memory a key is remembered while its message is retained: trimmed by count, the key goes with it', async () => {
    const { wss } = await durableServer({ durable: { history: { maxCount: 2 } } });
    const first = await wss.durable!.publish('kc', 'x', { key: 'abc' });
    assert.deepEqual([first.offset, first.duplicate], [1, false]);
    assert.equal((await wss.durable!.publish('kc', 'x', { key: 'abc' })).duplicate, true, 'retained: caught');
    await wss.durable!.publish('kc', 'y');
    await wss.durable!.publish('kc', 'z');
    const again = await wss.durable!.publish('kc', 'x', { key: 'abc' });
    assert.deepEqual([again.offset, again.duplicate], [4, false], 'trimmed: stored again');
  });

  it('plain subscribers and wskit.topics.v1 subscribers share durable topics, raw frames for the plain ones', async () => {
    const { url, wss } = await durableServer();
    wss.on('connection', (ws) => {
      if (ws.protocol === '') ws.subscribe('mixed');
    });
    const plain = client(url);
    const inbox = new Inbox(plain);
    await next(plain, 'open');
    const p = await peer(url);
    await p.request({ type: 'subscribe', topic: 'mixed' });
    assert.equal(wss.subscriberCount('mixed'), 2);
    assert.equal(wss.publish('mixed', 'from the server'), 2);
    await p.request({ type: 'publish', topic: 'mixed', data: 'from a client' });
    const published = await wss.durable!.publish('mixed', Buffer.from('bytes'));
    assert.equal(published.offset, 3);
    assert.deepEqual(
      (await inbox.until(3)).map((m) => [m.data, m.isBinary]),
      [
        ['from the server', false],
        ['from a client', false],
        ['bytes', true],
      ],
    );
    assert.deepEqual(await p.data('mixed', 3), [
      'from the server',
      'from a client',
      Buffer.from('bytes').toString('base64'),
    ]);
    // except leaves one connection of this server out.
    const [serverSide] = [...wss.clients].filter((ws) => ws.protocol === '');
    await wss.durable!.publish('mixed', 'not for plain', { except: serverSide });
    await p.until((r) => r.type === 'message' && r.data === 'not for plain');
    await wss.durable!.publish('mixed', 'for all');
    assert.deepEqual((await inbox.until(4))[3].data, 'for all');
  });

  it('topics that history() says are not durable stay at most once; wskit.topics.v1 clients are told', async () => {
    const { url, wss } = await durableServer({
      durable: { history: (topic) => (topic.startsWith('live/') ? null : { maxCount: 10 }) },
    });
    const p = await peer(url);
    const reply = await p.request({ type: 'subscribe', topic: 'live/x' });
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'bad_topic');
    await assert.rejects(wss.durable!.read('live/x'), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.equal(wss.publish('live/x', 'plain path'), 0);
  });

  it('authorize() refuses with forbidden', async () => {
    const seen: string[] = [];
    const { url } = await durableServer({
      durable: {
        authorize: async (_ws, req, action, topic) => {
          seen.push(`${action} ${topic} ${req.url}`);
          return !topic.startsWith('private');
        },
      },
    });
    const p = await peer(`${url}/app`);
    assert.equal((await p.request({ type: 'subscribe', topic: 'private/1' })).code, 'forbidden');
    assert.equal((await p.request({ type: 'publish', topic: 'private/1', data: 'x' })).code, 'forbidden');
    assert.equal((await p.request({ type: 'subscribe', topic: 'public' })).type, 'subscribed');
    assert.deepEqual(seen, ['subscribe private/1 /app', 'publish private/1 /app', 'subscribe public /app']);
  });

  it('authorize() that throws refuses, and the server hears of it', async () => {
    const { url, wss } = await durableServer({
      durable: {
        authorize: () => {
          throw new Error('the session store is down');
        },
      },
    });
    const reported = next<[Error]>(wss, 'brokerError');
    const p = await peer(url);
    assert.equal((await p.request({ type: 'subscribe', topic: 'x' })).code, 'forbidden');
    assert.equal((await reported)[0].message, 'the session store is down');
  });

  it('presence: join and leave deltas to the members, across servers sharing a broker; the list', async () => {
    const broker = new InMemoryBroker();
    const one = await durableServer({ broker });
    const two = await durableServer({ broker });
    const a = await peer(one.url);
    const b = await peer(two.url);
    await a.request({ type: 'subscribe', topic: 'room', presence: { info: { name: 'ann' } } });
    const [aJoin] = await a.until((r) => r.type === 'join');
    await b.request({ type: 'subscribe', topic: 'room', presence: { info: { name: 'bob' } } });
    const [, bJoin] = await a.until((r) => r.type === 'join', 2);
    assert.deepEqual((bJoin.member as Reply).info, { name: 'bob' });
    const list = await b.request({ type: 'presence', topic: 'room' });
    assert.deepEqual(
      (list.members as { info: unknown }[]).map((m) => m.info),
      [{ name: 'ann' }, { name: 'bob' }],
    );
    assert.equal(
      (aJoin.member as Reply).client,
      one.wss.durable!.clientId(one.wss.clients.values().next().value!),
    );
    b.ws.terminate();
    const [leave] = await a.until((r) => r.type === 'leave');
    assert.deepEqual(leave.member, bJoin.member);
    assert.deepEqual(
      (await one.wss.durable!.presence('room')).map((m) => m.info),
      [{ name: 'ann' }],
    );
    await a.request({ type: 'unsubscribe', topic: 'room' });
    assert.deepEqual(await one.wss.durable!.presence('room'), []);
  });

  it("server-side presence: join() and leave() members of the server's own; watchPresence() reads the list, then deltas", async () => {
    const broker = new InMemoryBroker();
    const one = await durableServer({ broker });
    const two = await durableServer({ broker });
    // A wskit.topics.v1 member and a member of server one's own, before anyone watches.
    const a = await peer(one.url);
    await a.request({ type: 'subscribe', topic: 'room', presence: { info: 'ann' } });
    await one.wss.durable!.join('room', { client: 'srv-bob', info: { name: 'bob' } });
    const seen: string[] = [];
    let wake = () => {};
    const watch = two.wss.durable!.watchPresence('room', (change, m) => {
      seen.push(`${change} ${JSON.stringify(m.info)}`);
      wake();
    });
    /** Resolves once `seen` has `n` entries. */
    const until = (n: number) =>
      within(
        new Promise<void>((resolve) => {
          wake = () => seen.length >= n && resolve();
          wake();
        }),
        `${n} presence changes (${seen})`,
      );
    await watch.ready;
    assert.deepEqual(seen.sort(), ['join "ann"', 'join {"name":"bob"}']);
    assert.deepEqual(
      [...watch.members.keys()].sort(),
      [one.wss.durable!.clientId([...one.wss.clients][0])!, 'srv-bob'].sort(),
    );
    // The topics client hears the server's member too.
    await a.until((r) => r.type === 'join' && (r.member as Reply).client === 'srv-bob');
    await one.wss.durable!.leave('room', { client: 'srv-bob', info: { name: 'bob' } });
    assert.deepEqual(seen.at(-1), 'leave {"name":"bob"}');
    await a.until((r) => r.type === 'leave' && (r.member as Reply).client === 'srv-bob');
    a.ws.terminate();
    await until(4);
    assert.deepEqual(seen.at(-1), 'leave "ann"');
    watch.close();
    await one.wss.durable!.join('room', { client: 'late', info: 1 });
    assert.equal(seen.length, 4, 'nothing after close()');
    await assert.rejects(one.wss.durable!.join('room', { client: '', info: 1 }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });

  it('ping, unsubscribe, not_subscribed, and bad messages answered with errors', async () => {
    const { url, wss } = await durableServer();
    const p = await peer(url);
    assert.deepEqual(await p.request({ type: 'ping' }), { type: 'pong', id: 1 });
    assert.equal((await p.request({ type: 'unsubscribe', topic: 'x' })).code, 'not_subscribed');
    await p.request({ type: 'subscribe', topic: 'x' });
    assert.equal((await p.request({ type: 'unsubscribe', topic: 'x' })).type, 'unsubscribed');
    assert.equal(wss.subscriberCount('x'), 0);
    await wss.durable!.publish('x', 'after');
    assert.equal((await p.request({ type: 'subscribe', topic: '' })).code, 'bad_topic');
    assert.equal((await p.request({ type: 'nope' })).code, 'bad_message');
    assert.equal((await p.request({ type: 'publish', topic: 'x', data: 1 })).code, 'bad_message');
    const big = { type: 'subscribe', topic: 'x', presence: { info: 'x'.repeat(2000) } };
    assert.equal((await p.request(big)).code, 'too_large');
    p.ws.send('not json');
    await p.until((r) => r.type === 'error' && r.id === undefined);
    assert.equal(p.messages('x').length, 0, 'nothing of x after the unsubscribe');
  });

  it('a binary message, or too many bad ones, closes the connection with 1008', async () => {
    const { url } = await durableServer();
    const p = await peer(url);
    const closing = closed(p.ws);
    p.ws.send(Buffer.from([1, 2, 3]));
    assert.equal((await closing).code, 1008);
    const q = await peer(url);
    const closing2 = closed(q.ws);
    for (let i = 0; i < 10; i++) q.ws.send('[]');
    assert.equal((await closing2).code, 1008);
  });

  it('server.durable.read() with since and limit; publish() rejects bad arguments; no durable, no API', async () => {
    const { wss } = await durableServer();
    const { epoch } = await wss.durable!.publish('r', 'a');
    await wss.durable!.publish('r', 'b');
    await wss.durable!.publish('r', 'c');
    const read = await wss.durable!.read('r', { since: { offset: 1, epoch } });
    assert.deepEqual(
      [read.recovered, read.offset, read.messages.map((m) => m.data.toString())],
      [true, 3, ['b', 'c']],
    );
    assert.deepEqual(
      (await wss.durable!.read('r', { limit: 1 })).messages.map((m) => m.offset),
      [3],
    );
    await assert.rejects(wss.durable!.publish('', 'x'), { code: 'WS_ERR_INVALID_ARGUMENT' });
    await assert.rejects(wss.durable!.publish('r', 'x', { key: 'k'.repeat(65) }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
    const { wss: plain } = await serve();
    assert.equal(plain.durable, null);
    assert.throws(
      () =>
        new (wss.constructor as typeof import('../../src/index.js').WebSocketServer)({
          noServer: true,
          durable: true,
          broker: {
            attach() {},
            detach() {},
            subscribe() {},
            unsubscribe() {},
            publish: async () => {},
            close: async () => {},
          },
        }),
      (err: WebSocketError) => err.code === 'WS_ERR_INVALID_ARGUMENT' && /SequencedBroker/.test(err.message),
    );
  });
});
