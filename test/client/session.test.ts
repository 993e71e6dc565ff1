// The client's protocol logic without a socket: a TopicsSession given frames from a pretend server,
// checked on the frames it sends and the events it emits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonCodec, rawCodec } from '../../src/client/codec.js';
import type { TopicsError } from '../../src/client/errors.js';
import { PublishBuffer } from '../../src/client/publish-buffer.js';
import { TopicsSession } from '../../src/client/session.js';
import type { GapEvent, TopicMessage } from '../../src/client/subscription.js';
import { parseServerMessage } from '../../src/client/wire.js';

function harness(options: { maxMessages?: number; maxBytes?: number } = {}) {
  const sent: Record<string, unknown>[] = [];
  const later: (() => void)[] = [];
  const gaps: GapEvent[] = [];
  const errors: TopicsError[] = [];
  const session = new TopicsSession<unknown>(
    jsonCodec,
    new PublishBuffer(options.maxMessages ?? 100, options.maxBytes ?? 10_000),
    {
      send: (text) => sent.push(JSON.parse(text) as Record<string, unknown>),
      gap: (g) => gaps.push(g),
      error: (e) => errors.push(e),
      later: (action) => later.push(action),
    },
    'k:',
  );
  const server = (message: Record<string, unknown>) => session.receive(JSON.stringify(message));
  const take = () => sent.splice(0);
  return { session, sent, take, gaps, errors, server, later };
}

function msg(topic: string, offset: number, data: unknown, epoch = 'e') {
  return { type: 'message', topic, offset, epoch, data: JSON.stringify(data) };
}

describe('TopicsSession', () => {
  it('subscribes on open, delivers history then live messages, drops duplicates', async () => {
    const { session, take, server } = harness();
    const got: TopicMessage<unknown>[] = [];
    const sub = session.subscribe('room', { history: 2, onMessage: (m) => got.push(m) });
    assert.deepEqual(take(), [], 'nothing is sent before a connection opens');
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'subscribe', topic: 'room', history: 2, id: 1 }]);
    server({ type: 'subscribed', id: 1, topic: 'room', epoch: 'e', offset: 5, recovered: false });
    assert.deepEqual(await sub.ready, {
      topic: 'room',
      epoch: 'e',
      offset: 5,
      recovered: false,
      resumed: false,
    });
    server(msg('room', 4, 'four'));
    server(msg('room', 5, 'five'));
    server(msg('room', 5, 'five again'));
    server(msg('room', 6, 'six'));
    assert.deepEqual(
      got.map((m) => [m.offset, m.data, m.replayed]),
      [
        [4, 'four', true],
        [5, 'five', true],
        [6, 'six', false],
      ],
    );
    assert.deepEqual(sub.position, { offset: 6, epoch: 'e' });
  });

  it('after a reconnect, resubscribes with since and delivers what was missed exactly once', () => {
    const { session, take, server } = harness();
    const got: number[] = [];
    session.subscribe('room', { onMessage: (m) => got.push(m.offset) });
    session.connectionOpened();
    take();
    server({ type: 'subscribed', id: 1, topic: 'room', epoch: 'e', offset: 0, recovered: false });
    server(msg('room', 1, 'a'));
    server(msg('room', 2, 'b'));
    session.connectionLost();
    server(msg('room', 3, 'lost with the connection'));
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'subscribe', topic: 'room', since: { offset: 2, epoch: 'e' }, id: 2 }]);
    server({ type: 'subscribed', id: 2, topic: 'room', epoch: 'e', offset: 4, recovered: true });
    server(msg('room', 2, 'b'));
    server(msg('room', 3, 'c'));
    server(msg('room', 4, 'd'));
    server(msg('room', 5, 'e'));
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
  });

  it('a jump in live offsets holds messages back and resumes from the last one delivered', () => {
    const { session, take, server } = harness();
    const got: number[] = [];
    session.subscribe('t', { onMessage: (m) => got.push(m.offset) });
    session.connectionOpened();
    take();
    server({ type: 'subscribed', id: 1, topic: 't', epoch: 'e', offset: 0, recovered: false });
    server(msg('t', 1, 1));
    server(msg('t', 3, 3)); // 2 never came
    assert.deepEqual(take(), [
      { type: 'unsubscribe', topic: 't', id: 2 },
      { type: 'subscribe', topic: 't', since: { offset: 1, epoch: 'e' }, id: 3 },
    ]);
    server(msg('t', 4, 4)); // held back: it will be replayed
    server({ type: 'unsubscribed', id: 2, topic: 't' });
    server({ type: 'subscribed', id: 3, topic: 't', epoch: 'e', offset: 4, recovered: true });
    for (const o of [2, 3, 4]) server(msg('t', o, o));
    assert.deepEqual(got, [1, 2, 3, 4]);
  });

  it('reports a gap (retention, epoch) on the subscription and the client', () => {
    const { session, take, server, gaps } = harness();
    const subGaps: GapEvent[] = [];
    const sub = session.subscribe('t', { since: { offset: 3, epoch: 'old' } });
    sub.on('gap', (g) => subGaps.push(g));
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'subscribe', topic: 't', since: { offset: 3, epoch: 'old' }, id: 1 }]);
    server({
      type: 'subscribed',
      id: 1,
      topic: 't',
      epoch: 'new',
      offset: 1,
      recovered: false,
      gap: { reason: 'epoch' },
    });
    assert.deepEqual(subGaps, [{ reason: 'epoch', epoch: 'new', topic: 't' }]);
    assert.deepEqual(gaps, subGaps);
  });

  it('publish: resolves on ack; waits while disconnected; is sent again with the same key until acked', async () => {
    const { session, take, server } = harness();
    const first = session.publish('t', { n: 1 });
    assert.deepEqual(session.buffered, { messages: 1, bytes: 7 });
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'publish', topic: 't', data: '{"n":1}', key: 'k:1', id: 1 }]);
    session.connectionLost(); // no ack came: was it stored?
    const second = session.publish('t', { n: 2 });
    session.connectionOpened();
    assert.deepEqual(take(), [
      { type: 'publish', topic: 't', data: '{"n":1}', key: 'k:1', id: 2 },
      { type: 'publish', topic: 't', data: '{"n":2}', key: 'k:2', id: 3 },
    ]);
    server({ type: 'ack', id: 1, topic: 't', offset: 99, epoch: 'e' }); // a stale id: ignored
    server({ type: 'ack', id: 3, topic: 't', offset: 8, epoch: 'e' });
    server({ type: 'ack', id: 2, topic: 't', offset: 7, epoch: 'e' });
    assert.deepEqual(await first, { topic: 't', offset: 7, epoch: 'e' });
    assert.deepEqual(await second, { topic: 't', offset: 8, epoch: 'e' });
    assert.deepEqual(session.buffered, { messages: 0, bytes: 0 });
  });

  it('the send buffer is bounded in messages and bytes: a publish past either is rejected with a typed error', async () => {
    const { session } = harness({ maxMessages: 2, maxBytes: 20 });
    const a = session.publish('t', 'aaaa');
    const b = session.publish('t', 'bbbb');
    await assert.rejects(session.publish('t', 'c'), { code: 'TOPICS_ERR_BUFFER_FULL', topic: 't' });
    const big = harness({ maxBytes: 20 }).session;
    await assert.rejects(big.publish('t', 'x'.repeat(30)), {
      code: 'TOPICS_ERR_BUFFER_FULL',
      message: /maxBufferedBytes 20/,
    });
    session.close();
    await assert.rejects(a, { code: 'TOPICS_ERR_CLOSED' });
    await assert.rejects(b, { code: 'TOPICS_ERR_CLOSED' });
  });

  it('a refused publish and a refused subscription reject with the server code', async () => {
    const { session, take, server } = harness();
    session.connectionOpened();
    const sub = session.subscribe('secret');
    const errors: TopicsError[] = [];
    sub.on('error', (e) => errors.push(e));
    const p = session.publish('secret', 1);
    assert.deepEqual(
      take().map((f) => f.type),
      ['subscribe', 'publish'],
    );
    server({ type: 'error', id: 1, code: 'forbidden', message: 'no' });
    server({ type: 'error', id: 2, code: 'rate_limited', message: 'slow down' });
    await assert.rejects(sub.ready, { code: 'TOPICS_ERR_SERVER', serverCode: 'forbidden', topic: 'secret' });
    await assert.rejects(p, { code: 'TOPICS_ERR_SERVER', serverCode: 'rate_limited' });
    assert.equal(errors.length, 1);
    assert.deepEqual(session.topics(), [], 'a refused subscription ends');
    session.connectionLost();
    session.connectionOpened();
    assert.deepEqual(take(), [], 'and is not sent again');
  });

  it('a subscribe refused as unavailable (the broker down) or rate_limited stands, and is sent again later with the same since', async () => {
    const { session, take, server, later } = harness();
    const sub = session.subscribe('t', { since: { offset: 7, epoch: 'e' } });
    const errors: string[] = [];
    sub.on('error', (e) => errors.push(e.serverCode ?? ''));
    session.connectionOpened();
    take();
    server({ type: 'error', id: 1, code: 'unavailable', message: 'the broker is down' });
    assert.deepEqual(errors, ['unavailable']);
    assert.deepEqual(session.topics(), ['t']);
    assert.equal(later.length, 1);
    later.shift()!();
    assert.deepEqual(take(), [{ type: 'subscribe', topic: 't', since: { offset: 7, epoch: 'e' }, id: 2 }]);
    server({ type: 'error', id: 2, code: 'rate_limited', message: 'too many requests' });
    later.shift()!();
    assert.deepEqual(take(), [{ type: 'subscribe', topic: 't', since: { offset: 7, epoch: 'e' }, id: 3 }]);
    server({ type: 'subscribed', id: 3, topic: 't', epoch: 'e', offset: 9, recovered: true });
    assert.equal((await sub.ready).recovered, true);
  });

  it('a subscribed without id (the server found a gap in the live stream) reports it and goes on after it', () => {
    const { session, take, server, gaps } = harness();
    const got: string[] = [];
    session.subscribe('t', { onMessage: (m) => got.push(`${m.epoch}:${m.offset}`) });
    session.connectionOpened();
    take();
    server({ type: 'subscribed', id: 1, topic: 't', epoch: 'a', offset: 0, recovered: false });
    server(msg('t', 1, 1, 'a'));
    // Redis restarted empty; the new epoch has 2 messages this client will not get.
    server({
      type: 'subscribed',
      topic: 't',
      epoch: 'b',
      offset: 2,
      recovered: false,
      gap: { reason: 'epoch', from: 1, to: 2 },
    });
    server(msg('t', 3, 3, 'b'));
    assert.deepEqual(got, ['a:1', 'b:3']);
    assert.deepEqual(gaps, [{ reason: 'epoch', epoch: 'b', from: 1, to: 2, topic: 't' }]);
    assert.deepEqual(take(), [], 'no resubscribe: the server goes on');
  });

  it('presence: the list after subscribing, then join and leave deltas; fetched again after a reconnect', () => {
    const { session, take, server } = harness();
    const sub = session.subscribe<unknown, { name: string }>('room', { presence: { info: { name: 'Ada' } } });
    const seen: string[] = [];
    sub.on('presence', (e) => seen.push(`list ${e.members.map((m) => m.info.name).join(',')}`));
    sub.on('join', (e) => seen.push(`join ${e.member.info.name} -> ${e.members.length}`));
    sub.on('leave', (e) => seen.push(`leave ${e.member.info.name} -> ${e.members.length}`));
    session.connectionOpened();
    assert.deepEqual(take(), [
      { type: 'subscribe', topic: 'room', presence: { info: { name: 'Ada' } }, id: 1 },
    ]);
    server({ type: 'subscribed', id: 1, topic: 'room', epoch: 'e', offset: 0, recovered: false });
    assert.deepEqual(take(), [{ type: 'presence', topic: 'room', id: 2 }]);
    server({
      type: 'presence',
      id: 2,
      topic: 'room',
      members: [
        { client: 'c1', info: { name: 'Ada' } },
        { client: 'c2', info: { name: 'Grace' } },
      ],
    });
    server({ type: 'join', topic: 'room', member: { client: 'c3', info: { name: 'Linus' } } });
    server({ type: 'join', topic: 'room', member: { client: 'c3', info: { name: 'Linus' } } }); // again: no event
    server({ type: 'leave', topic: 'room', member: { client: 'c2', info: { name: 'Grace' } } });
    server({ type: 'leave', topic: 'room', member: { client: 'c2', info: { name: 'Grace' } } });
    assert.deepEqual(seen, ['list Ada,Grace', 'join Linus -> 3', 'leave Grace -> 2']);
    assert.deepEqual(
      sub.members.map((m) => m.client),
      ['c1', 'c3'],
    );
    session.connectionLost();
    session.connectionOpened();
    take();
    server({ type: 'subscribed', id: 3, topic: 'room', epoch: 'e', offset: 0, recovered: true });
    assert.deepEqual(take(), [{ type: 'presence', topic: 'room', id: 4 }]);
  });

  it('presence(topic) waits for a connection, and is asked again if the connection drops first', async () => {
    const { session, take, server } = harness();
    const members = session.presence('room');
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'presence', topic: 'room', id: 1 }]);
    session.connectionLost();
    session.connectionOpened();
    assert.deepEqual(take(), [{ type: 'presence', topic: 'room', id: 2 }]);
    server({ type: 'presence', id: 2, topic: 'room', members: [{ client: 'c9', info: null }] });
    assert.deepEqual(await members, [{ client: 'c9', info: null }]);
  });

  it('unsubscribe: sends unsubscribe and stops delivering; offline it ends at once', async () => {
    const { session, take, server } = harness();
    const got: number[] = [];
    const sub = session.subscribe('t', { onMessage: (m) => got.push(m.offset) });
    session.connectionOpened();
    server({ type: 'subscribed', id: 1, topic: 't', epoch: 'e', offset: 0, recovered: false });
    take();
    const done = sub.unsubscribe();
    assert.deepEqual(take(), [{ type: 'unsubscribe', topic: 't', id: 2 }]);
    server(msg('t', 1, 'late'));
    server({ type: 'unsubscribed', id: 2, topic: 't' });
    await done;
    assert.deepEqual(got, []);
    const again = session.subscribe('t');
    session.connectionLost();
    take();
    await again.unsubscribe();
    session.connectionOpened();
    assert.deepEqual(take(), [], 'not subscribed again');
  });

  it('bad input from the server never throws: it is reported as TOPICS_ERR_PROTOCOL and ignored', () => {
    const { session, errors } = harness();
    const sub = session.subscribe('t');
    session.connectionOpened();
    const decodeErrors: TopicsError[] = [];
    sub.on('error', (e) => decodeErrors.push(e));
    for (const text of [
      'not json',
      '[]',
      'null',
      '{"type":"message"}',
      '{"type":"nope"}',
      '{"type":"ack","id":-1}',
    ]) {
      session.receive(text);
    }
    session.receiveBinary();
    assert.equal(errors.length, 7);
    assert.ok(errors.every((e) => e.code === 'TOPICS_ERR_PROTOCOL'));
    session.receive(
      JSON.stringify({ type: 'subscribed', id: 1, topic: 't', epoch: 'e', offset: 0, recovered: false }),
    );
    session.receive(JSON.stringify({ type: 'message', topic: 't', offset: 1, epoch: 'e', data: '{oops' }));
    assert.equal(decodeErrors[0]?.code, 'TOPICS_ERR_CODEC');
    assert.deepEqual(
      sub.position,
      { offset: 1, epoch: 'e' },
      'an undecodable message is skipped, not replayed forever',
    );
  });

  it('binary payloads travel as base64 with a raw codec', () => {
    const sent: Record<string, unknown>[] = [];
    const got: unknown[] = [];
    const session = new TopicsSession<string | Uint8Array>(
      rawCodec,
      new PublishBuffer(10, 1000),
      { send: (t) => sent.push(JSON.parse(t)), gap: () => {}, error: () => {}, later: () => {} },
      'k:',
    );
    session.connectionOpened();
    void session.publish('bin', new Uint8Array([0, 255, 1]));
    assert.deepEqual(sent[0], {
      type: 'publish',
      topic: 'bin',
      data: 'AP8B',
      key: 'k:1',
      binary: true,
      id: 1,
    });
    session.subscribe('bin', { onMessage: (m) => got.push(m.data) });
    session.receive(
      JSON.stringify({ type: 'subscribed', id: 2, topic: 'bin', epoch: 'e', offset: 0, recovered: false }),
    );
    session.receive(
      JSON.stringify({ type: 'message', topic: 'bin', offset: 1, epoch: 'e', data: 'AP8B', binary: true }),
    );
    session.receive(JSON.stringify({ type: 'message', topic: 'bin', offset: 2, epoch: 'e', data: 'text' }));
    assert.deepEqual(got, [new Uint8Array([0, 255, 1]), 'text']);
  });

  it('refuses bad arguments with TOPICS_ERR_INVALID_ARGUMENT', async () => {
    const { session } = harness();
    assert.throws(() => session.subscribe(''), { code: 'TOPICS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => session.subscribe('x'.repeat(1025)), /at most 1024/);
    assert.throws(() => session.subscribe('t', { history: -1 }), /history/);
    session.subscribe('t');
    assert.throws(() => session.subscribe('t'), /Already subscribed/);
    await assert.rejects(session.publish('t', 1, { key: 'k'.repeat(65) }), {
      code: 'TOPICS_ERR_INVALID_ARGUMENT',
    });
    await assert.rejects(session.publish('t', undefined), { code: 'TOPICS_ERR_CODEC' });
  });
});

describe('parseServerMessage', () => {
  it('reads every server message of the spec, ignoring unknown fields', () => {
    assert.deepEqual(
      parseServerMessage(
        '{"type":"subscribed","id":1,"topic":"t","epoch":"e","offset":3,"recovered":false,"gap":{"reason":"retention","from":1,"to":2},"extra":1}',
      ),
      {
        type: 'subscribed',
        id: 1,
        topic: 't',
        epoch: 'e',
        offset: 3,
        recovered: false,
        gap: { reason: 'retention', from: 1, to: 2 },
      },
    );
    assert.deepEqual(parseServerMessage('{"type":"pong"}'), { type: 'pong' });
    assert.deepEqual(parseServerMessage('{"type":"error","code":"forbidden","message":"no"}'), {
      type: 'error',
      code: 'forbidden',
      message: 'no',
    });
    assert.deepEqual(
      parseServerMessage('{"type":"join","topic":"t","member":{"client":"c","info":{"a":1}}}'),
      {
        type: 'join',
        topic: 't',
        member: { client: 'c', info: { a: 1 } },
      },
    );
  });

  it('refuses wrong types of fields: offsets beyond 2^53, negative ids, a missing topic', () => {
    for (const bad of [
      { type: 'message', topic: 't', offset: 2 ** 53, epoch: 'e', data: '' },
      { type: 'message', topic: 't', offset: 1.5, epoch: 'e', data: '' },
      { type: 'message', topic: '', offset: 1, epoch: 'e', data: '' },
      { type: 'message', topic: 't', offset: 1, epoch: 'e', data: 5 },
      { type: 'ack', id: -1, topic: 't', offset: 1, epoch: 'e' },
      { type: 'presence', id: 1, topic: 't', members: [{ info: 1 }] },
      { type: 'subscribed', topic: 't', epoch: 'e', offset: 1 },
    ]) {
      assert.equal(parseServerMessage(JSON.stringify(bad)), null, JSON.stringify(bad));
    }
  });
});
