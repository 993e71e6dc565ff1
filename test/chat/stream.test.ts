// The rooms as durable topics: what a page reads over wskit.topics.v1 (wskit/client) beside its chat
// connection. History for newcomers, the room's messages and notices with offsets, and what a page
// may not do with the topics (publish, presence, other topics).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type TopicMessage, TopicsClient } from '../../src/client/index.js';
import { WebSocket } from '../../src/index.js';
import { cleanup, connect, startChat, TIMEOUT, wsUrl } from './helpers.js';

const readers = new Set<TopicsClient<unknown>>();

afterEach(async () => {
  for (const r of readers) r.close();
  readers.clear();
  await cleanup();
});

type RoomEvent = { type: string; name: string; text?: string };

function reader(url: string): TopicsClient<RoomEvent> {
  const c = new TopicsClient<RoomEvent>(url, {
    WebSocket: WebSocket as never,
    backoff: { min: 10, jitter: 0 },
  });
  readers.add(c as TopicsClient<unknown>);
  return c;
}

function collect(c: TopicsClient<RoomEvent>, topic: string, history: number) {
  const got: TopicMessage<RoomEvent>[] = [];
  const sub = c.subscribe(topic, { history, onMessage: (m) => got.push(m) });
  const until = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (got.length >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`${got.length} messages, not ${n}`)), TIMEOUT);
      const off = sub.on('message', () => {
        if (got.length < n) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  return { got, sub, until };
}

describe('chat rooms as durable topics', () => {
  it('a newcomer reads the last `history` messages and notices of the room, then live ones', async () => {
    const server = await startChat({ history: 3 });
    const ada = await connect(server);
    const welcome = await ada.join('garden', 'Ada');
    assert.equal(welcome.topic, 'chat/garden');
    assert.equal(welcome.history, 3);
    for (const text of ['one', 'two', 'three', 'four']) {
      ada.send({ type: 'message', text });
      await ada.next('message', (m) => m.text === text);
    }
    const page = reader(wsUrl(server));
    const room = collect(page, 'chat/garden', 100);
    const ready = await room.sub.ready;
    assert.equal(ready.offset, 5, 'a joined notice and four messages');
    await room.until(3);
    assert.deepEqual(
      room.got.map((m) => [m.offset, m.data.text, m.replayed]),
      [
        [3, 'two', true],
        [4, 'three', true],
        [5, 'four', true],
      ],
    );
    ada.send({ type: 'message', text: 'live' });
    await room.until(4);
    assert.deepEqual(room.got[3]?.data, { ...room.got[3]?.data, type: 'message', name: 'Ada', text: 'live' });
    assert.equal(room.got[3]?.replayed, false);
  });

  it('a chat connection that joins with stream: true gets welcome, users and errors, not the room', async () => {
    const server = await startChat();
    const ada = await connect(server);
    await ada.join('garden', 'Ada');
    const page = await connect(server);
    page.send({ type: 'join', room: 'garden', name: 'Grace', stream: true });
    await page.next('welcome');
    const room = collect(reader(wsUrl(server)), 'chat/garden', 10);
    await room.sub.ready;
    ada.send({ type: 'message', text: 'hello Grace' });
    await room.until(3);
    assert.deepEqual(
      room.got.map((m) => [m.data.type, m.data.name]),
      [
        ['joined', 'Ada'],
        ['joined', 'Grace'],
        ['message', 'Ada'],
      ],
    );
    await page.peopleAre(['Ada', 'Grace']);
    assert.equal(page.received.get('message'), undefined, 'the room reaches the page on its topic only');
    assert.equal(page.received.get('joined'), undefined);
  });

  it('a wskit.topics.v1 connection is held to the rate limit: flooding closes it with 1008', async () => {
    const server = await startChat({ rateLimit: { burst: 5, perSecond: 1 } });
    const ws = new WebSocket(wsUrl(server), ['wskit.topics.v1']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'wskit.topics.v1');
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    for (let i = 0; i < 100; i++) ws.send(JSON.stringify({ type: 'ping', id: i }));
    assert.equal(await closed, 1008);
  });

  it('the origin check holds for wskit.topics.v1 connections too', async () => {
    const server = await startChat();
    const evil = new WebSocket(wsUrl(server), ['wskit.topics.v1'], { origin: 'https://evil.example' });
    const error = await new Promise<Error>((resolve) => evil.once('error', resolve));
    assert.match(error.message, /403/);
    const own = new WebSocket(wsUrl(server), ['wskit.topics.v1'], { origin: server.url.slice(0, -1) });
    await new Promise((resolve, reject) => {
      own.once('open', resolve);
      own.once('error', reject);
    });
    assert.equal(own.protocol, 'wskit.topics.v1');
    own.terminate();
  });

  it('pages may only subscribe to rooms: publishing, presence and other topics are forbidden', async () => {
    const server = await startChat();
    const page = reader(wsUrl(server));
    await assert.rejects(page.publish('chat/garden', { type: 'message', name: 'Ada', text: 'forged' }), {
      code: 'TOPICS_ERR_SERVER',
      serverCode: 'forbidden',
    });
    await assert.rejects(page.subscribe('chat-users/x/garden' as string).ready, {
      serverCode: /forbidden|bad_topic/,
    });
    await assert.rejects(page.subscribe('chat/Not A Room').ready, { serverCode: /forbidden|bad_topic/ });
    await assert.rejects(page.subscribe('chat/garden', { presence: { info: 'me' } }).ready, {
      serverCode: 'forbidden',
    });
    assert.equal((await page.subscribe('chat/lobby').ready).topic, 'chat/lobby');
  });
});
