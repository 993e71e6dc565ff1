// The chat server end to end over loopback, with raw WebSocket clients: rooms, presence, notices,
// validation errors, rate limiting, the origin check, and two servers sharing a broker.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { CLOSE_REPLACED } from '../../src/chat/chat-server.js';
import { InMemoryBroker, WebSocket } from '../../src/index.js';
import { cleanup, connect, startChat, TIMEOUT, wsUrl } from './helpers.js';

afterEach(cleanup);

describe('chat server: rooms', () => {
  it('welcomes a join with the room, the name, who is there and the limits', async () => {
    const server = await startChat();
    const ada = await connect(server);
    const welcome = await ada.join('Garden', ' Ada ');
    assert.deepEqual(welcome, {
      type: 'welcome',
      room: 'garden',
      name: 'Ada',
      users: ['Ada'],
      limits: { messageBytes: 8192, nameLength: 24, roomLength: 32, textLength: 1000 },
      topic: 'chat/garden',
      history: 100,
    });
    assert.deepEqual([...ada.people], ['Ada']);
    assert.equal(ada.received.get('users'), undefined, 'the joiner gets the list in its welcome only');
  });

  it('tells the room who joined, who is online, and relays messages to everyone in it', async () => {
    const server = await startChat();
    const ada = await connect(server);
    const grace = await connect(server);
    const elsewhere = await connect(server);
    await ada.join('garden', 'Ada');
    await elsewhere.join('kitchen', 'Linus');
    const welcome = await grace.join('garden', 'Grace');
    assert.deepEqual(welcome.users, ['Ada', 'Grace']);
    const joined = await ada.next('joined');
    assert.equal(joined.name, 'Grace');
    assert.equal(joined.room, 'garden');
    assert.ok(Math.abs(joined.ts - Date.now()) < 5000);
    assert.deepEqual(await ada.next('users'), { type: 'users', room: 'garden', add: ['Grace'], remove: [] });
    await ada.peopleAre(['Ada', 'Grace']);
    assert.equal(elsewhere.received.get('users'), undefined, 'changes stay in their room');

    const before = Date.now();
    grace.send({ type: 'message', text: '  hello <b>Ada</b>  ' });
    const [toAda, toGrace] = await Promise.all([ada.next('message'), grace.next('message')]);
    assert.deepEqual(toAda, toGrace);
    assert.equal(toAda.name, 'Grace');
    assert.equal(toAda.room, 'garden');
    assert.equal(toAda.text, 'hello <b>Ada</b>');
    assert.match(toAda.id, /^[0-9a-f-]{36}$/);
    assert.ok(toAda.ts >= before && toAda.ts <= Date.now());
    assert.equal(grace.drain().filter((m) => m.type === 'joined').length, 0, 'no joined notice for oneself');

    elsewhere.send({ type: 'message', text: 'in the kitchen' });
    await elsewhere.next('message');
    assert.deepEqual(
      ada.drain().filter((m) => m.type === 'message'),
      [],
      'a message stays in its room',
    );
  });

  it('announces a leave and a disconnection, and updates the presence', async () => {
    const server = await startChat();
    const ada = await connect(server);
    const grace = await connect(server);
    const linus = await connect(server);
    await ada.join('garden', 'Ada');
    await grace.join('garden', 'Grace');
    await linus.join('garden', 'Linus');
    await ada.peopleAre(['Ada', 'Grace', 'Linus']);
    ada.drain();
    grace.send({ type: 'leave' });
    assert.equal((await ada.next('left')).name, 'Grace');
    assert.deepEqual(await ada.next('users'), { type: 'users', room: 'garden', add: [], remove: ['Grace'] });
    await ada.peopleAre(['Ada', 'Linus']);
    grace.send({ type: 'message', text: 'anyone?' });
    assert.equal((await grace.next('error')).code, 'not_joined');
    linus.close();
    assert.equal((await ada.next('left', (m) => m.name === 'Linus')).room, 'garden');
    await ada.peopleAre(['Ada']);
    assert.deepEqual(server.users('garden'), ['Ada']);
  });

  it('moves a connection that joins another room', async () => {
    const server = await startChat();
    const ada = await connect(server);
    const grace = await connect(server);
    await ada.join('garden', 'Ada');
    await grace.join('garden', 'Grace');
    const welcome = await grace.join('kitchen', 'Grace');
    assert.deepEqual(welcome.users, ['Grace']);
    assert.equal((await ada.next('left')).name, 'Grace');
    assert.deepEqual(server.users('garden'), ['Ada']);
    // Joining the room one is in again just repeats the welcome.
    assert.deepEqual((await grace.join('kitchen', 'grace')).users, ['Grace']);
  });

  it('keeps names unique in a room, whatever their case', async () => {
    const server = await startChat();
    const ada = await connect(server);
    const impostor = await connect(server);
    await ada.join('garden', 'Ada');
    impostor.send({ type: 'join', room: 'garden', name: 'ADA' });
    const error = await impostor.next('error');
    assert.equal(error.code, 'name_taken');
    assert.match(error.message, /already called Ada/);
    assert.deepEqual((await impostor.join('kitchen', 'ADA')).users, ['ADA'], 'another room is fine');
  });

  it('lets a reconnection of the same page (same session) take over its name, without notices', async () => {
    const server = await startChat();
    const grace = await connect(server);
    const old = await connect(server);
    await grace.join('garden', 'Grace');
    await old.join('garden', 'Ada', 'session-0123456789');
    await grace.next('joined', (m) => m.name === 'Ada');
    await grace.peopleAre(['Ada', 'Grace']);
    grace.drain();
    const fresh = await connect(server);
    const welcome = await fresh.join('garden', 'Ada', 'session-0123456789');
    assert.deepEqual(welcome.users, ['Ada', 'Grace']);
    assert.deepEqual(await old.closed, { code: CLOSE_REPLACED, reason: 'Replaced by a newer connection' });
    fresh.send({ type: 'message', text: 'still me' });
    assert.equal((await grace.next('message')).name, 'Ada');
    assert.deepEqual(
      grace.drain().filter((m) => m.type === 'joined' || m.type === 'left'),
      [],
    );
    // Another session cannot.
    const thief = await connect(server);
    thief.send({ type: 'join', room: 'garden', name: 'Ada', session: 'another-session-1' });
    assert.equal((await thief.next('error')).code, 'name_taken');
  });
});

describe('chat server: what it refuses', () => {
  it('answers each bad message with an error and keeps the connection', async () => {
    const server = await startChat({ rateLimit: { burst: 100 } });
    const client = await connect(server);
    const cases: [unknown, string][] = [
      ['{"type": "join", ', 'bad_json'],
      [Buffer.from([1, 2, 3]), 'bad_json'],
      ['[1,2]', 'bad_message'],
      [{ type: 'dance' }, 'bad_message'],
      [{ type: 'message', text: 'before joining' }, 'not_joined'],
      [{ type: 'join', room: 'no spaces!', name: 'Ada' }, 'bad_room'],
      [{ type: 'join', room: 'ok', name: '' }, 'bad_name'],
      [{ type: 'join', room: 'ok', name: 'x'.repeat(25) }, 'bad_name'],
      [JSON.stringify({ type: 'message', text: 'x'.repeat(9000) }), 'too_large'],
    ];
    for (const [message, code] of cases) {
      client.send(message);
      const error = await client.next('error');
      assert.equal(error.code, code, JSON.stringify(message).slice(0, 60));
      assert.ok(error.message.length > 0);
    }
    await client.join('ok', 'Ada');
    client.send({ type: 'message', text: 'x'.repeat(1001) });
    const tooLong = await client.next('error');
    assert.equal(tooLong.code, 'bad_text');
    assert.match(tooLong.message, /too long: 1001 characters, at most 1000/);
    client.send({ type: 'message', text: 'fine' });
    assert.equal((await client.next('message')).text, 'fine');
  });

  it('closes a connection that sends a frame over 64 KiB with 1009', async () => {
    const server = await startChat();
    const client = await connect(server);
    client.send('x'.repeat(64 * 1024 + 1));
    assert.equal((await client.closed).code, 1009);
  });

  it('rate-limits each connection: a burst passes, then one error a second, then a 1008 close', async () => {
    const server = await startChat({ rateLimit: { burst: 3, perSecond: 0.5 } });
    const spammer = await connect(server);
    const other = await connect(server);
    await spammer.join('garden', 'Spam'); // takes a token
    await other.join('garden', 'Other');
    for (let i = 0; i < 4; i++) spammer.send({ type: 'message', text: `#${i}` });
    const error = await spammer.next('error');
    assert.equal(error.code, 'rate_limited');
    assert.match(error.message, /too fast/);
    assert.equal((await other.next('message', (m) => m.text === '#1')).name, 'Spam');
    // The other connection is not limited by the spammer.
    other.send({ type: 'message', text: 'unaffected' });
    assert.equal((await other.next('message', (m) => m.text === 'unaffected')).name, 'Other');
    for (let i = 0; i < 60; i++) spammer.send({ type: 'message', text: 'flood' });
    assert.deepEqual(await spammer.closed, { code: 1008, reason: 'Too many messages' });
    assert.equal(other.drain().filter((m) => m.type === 'message' && m.text === 'flood').length, 0);
    assert.equal(spammer.drain().filter((m) => m.type === 'error').length, 0, 'one error a second at most');
  });

  it('refuses a WebSocket from a page of another origin with 403', async () => {
    const server = await startChat();
    const ws = new WebSocket(wsUrl(server), { origin: 'http://evil.example' });
    const [err] = (await once(ws, 'error', { signal: AbortSignal.timeout(TIMEOUT) })) as [Error];
    assert.match(err.message, /403/);
    const same = await connect(server, { origin: `http://127.0.0.1:${server.port}` });
    assert.equal((await same.join('ok', 'Ada')).name, 'Ada');
  });

  it('serves the page on / and the WebSocket on /ws only', async () => {
    const server = await startChat();
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<title>wskit chat<\/title>/);
    assert.equal((await fetch(`${server.url}ws`)).status, 404);
    const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/elsewhere`);
    const [err] = (await once(wrong, 'error', { signal: AbortSignal.timeout(TIMEOUT) })) as [Error];
    assert.match(err.message, /400/);
  });
});

describe('chat servers sharing a broker', () => {
  it('share rooms: messages, notices, and who is online on either', async () => {
    const broker = new InMemoryBroker();
    const one = await startChat({ broker });
    const two = await startChat({ broker });
    const ada = await connect(one);
    const grace = await connect(two);
    await ada.join('garden', 'Ada');
    const welcome = await grace.join('garden', 'Grace');
    assert.deepEqual(welcome.users, ['Ada', 'Grace']);
    assert.equal((await ada.next('joined')).name, 'Grace');
    await ada.peopleAre(['Ada', 'Grace']);

    grace.send({ type: 'message', text: 'across servers' });
    const got = await ada.next('message');
    assert.equal(got.text, 'across servers');
    assert.equal(got.name, 'Grace');

    // Presence across servers is by name: a name is unique on each server, not across them.
    const second = await connect(one);
    await second.join('garden', 'Linus');
    await grace.peopleAre(['Ada', 'Grace', 'Linus']);

    // A server that closes takes its people with it.
    await one.close();
    await grace.peopleAre(['Grace']);
    assert.deepEqual(two.users('garden'), ['Grace']);
  });
});
