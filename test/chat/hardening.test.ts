// The chat server against hostile input: look-alike names, a room's member cap, the cost of presence
// (linear, and under the topics' backpressure policy), the Origin allowlist, and a handler that throws.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import type { ChatServer } from '../../src/chat/chat-server.js';
import type { WebSocket as WsType } from '../../src/index.js';
import { cleanup, connect, startChat, TIMEOUT } from './helpers.js';

afterEach(cleanup);

/** The server's WebSocketServer connections (a test looks at what the server holds). */
function serverSockets(server: ChatServer): WsType[] {
  return [...(server as unknown as { wss: { clients: Set<WsType> } }).wss.clients];
}

describe('chat server: names', () => {
  it('refuses names that only look like one in the room: name_taken', async () => {
    const server = await startChat({ rateLimit: { burst: 100 } });
    const ada = await connect(server);
    await ada.join('garden', 'Ada');
    const impostor = await connect(server);
    for (const name of [
      'ADA',
      '\u0410da', // Cyrillic А
      'Ad\u0430', // Cyrillic а
      '\u0391da', // Greek Α
      '\uff21\uff44\uff41', // fullwidth
      'Ad\u00e1', // an accent
      'Ada\u0301',
      '\u{1d400}da', // mathematical bold A
    ]) {
      impostor.send({ type: 'join', room: 'garden', name });
      const error = await impostor.next('error');
      assert.equal(error.code, 'name_taken', JSON.stringify(name));
      assert.match(error.message, /already called Ada/);
    }
    assert.deepEqual(server.users('garden'), ['Ada']);
  });

  it('refuses names with invisible characters: bad_name', async () => {
    const server = await startChat({ rateLimit: { burst: 100 } });
    const client = await connect(server);
    for (const name of ['Ada\u200b', 'Ada\u00ad', 'A\u200dda', '\u202eAda', 'Ada\ufe0f', 'Ada\u3164']) {
      client.send({ type: 'join', room: 'garden', name });
      assert.equal((await client.next('error')).code, 'bad_name', JSON.stringify(name));
    }
  });

  it('keeps names of other scripts, and different names, apart', async () => {
    const server = await startChat({ rateLimit: { burst: 100 } });
    const names = ['Ada', 'Zoë', '李雷', 'Анна', 'Anna', 'Ἀλέξανδρος', 'Ada2', '👩‍💻'];
    for (const name of names) {
      const client = await connect(server);
      assert.equal((await client.join('garden', name)).name, name);
    }
    assert.deepEqual(new Set(server.users('garden')), new Set(names));
  });

  it('normalizes a name to NFC before it is shown', async () => {
    const server = await startChat();
    const client = await connect(server);
    assert.equal((await client.join('garden', 'Zoe\u0308')).name, 'Zo\u00eb');
  });
});

describe('chat server: members per room', () => {
  it('refuses a join past maxRoomMembers with room_full; other rooms and freed places are fine', async () => {
    const server = await startChat({ maxRoomMembers: 2 });
    const ada = await connect(server);
    const grace = await connect(server);
    const linus = await connect(server);
    await ada.join('garden', 'Ada', 'session-of-ada-1');
    await grace.join('garden', 'Grace');
    linus.send({ type: 'join', room: 'garden', name: 'Linus' });
    const error = await linus.next('error');
    assert.equal(error.code, 'room_full');
    assert.match(error.message, /#garden is full/);
    assert.deepEqual(server.users('garden'), ['Ada', 'Grace']);
    assert.equal((await linus.join('kitchen', 'Linus')).room, 'kitchen');
    // A reconnection of a member (same session) takes its own place: not refused.
    const adaAgain = await connect(server);
    assert.deepEqual((await adaAgain.join('garden', 'Ada', 'session-of-ada-1')).users, ['Ada', 'Grace']);
    // Joining again the room one is in (another name) does not count twice.
    assert.equal((await grace.join('garden', 'Grace Hopper')).name, 'Grace Hopper');
    grace.send({ type: 'leave' });
    await adaAgain.next('left');
    assert.equal((await linus.join('garden', 'Linus')).room, 'garden');
  });

  it('checks the option', async () => {
    for (const maxRoomMembers of [0, 1.5, Number.NaN]) {
      await assert.rejects(startChat({ maxRoomMembers }), { code: 'WS_ERR_INVALID_ARGUMENT' });
    }
  });
});

describe('chat server: the cost of presence', () => {
  it('N joins cost each member O(N) bytes: changes only, one small message per later join', async () => {
    const N = 60;
    const server = await startChat({ rateLimit: { burst: 10 } });
    const members = [];
    for (let i = 0; i < N; i++) {
      const member = await connect(server);
      await member.join('big', `member-${String(i).padStart(2, '0')}`);
      members.push(member);
    }
    const everyone = members.map((_, i) => `member-${String(i).padStart(2, '0')}`);
    for (const member of members) await member.peopleAre(everyone);
    let queued = 0;
    for (const [i, member] of members.entries()) {
      const users = member.received.get('users') ?? { count: 0, bytes: 0 };
      const joined = member.received.get('joined') ?? { count: 0, bytes: 0 };
      // One `users` and one `joined` per member who came later, each of a size that does not grow.
      assert.equal(users.count, N - 1 - i);
      assert.equal(joined.count, N - 1 - i);
      assert.ok(users.bytes <= users.count * 70, `${users.bytes} bytes in ${users.count} users messages`);
      assert.ok(
        joined.bytes <= joined.count * 90,
        `${joined.bytes} bytes in ${joined.count} joined messages`,
      );
      // The whole list came once, in the welcome.
      assert.equal(member.received.get('welcome')?.count, 1);
      queued += users.bytes + joined.bytes;
    }
    // All members together: about N²/2 small messages, not N²/2 lists of up to N names (~N³).
    assert.ok(queued <= (N * (N - 1) * (70 + 90)) / 2, `${queued} bytes`);
  });

  it('sends changes through the backpressure policy: a member that does not read is closed with 1008', async () => {
    const server = await startChat({ maxBackpressure: 64 * 1024 });
    const slow = await connect(server);
    await slow.join('garden', 'Slow');
    const [held] = serverSockets(server);
    const ada = await connect(server);
    await ada.join('garden', 'ada', 'session-of-ada-1');
    await slow.peopleAre(['Slow', 'ada']);
    // As if 1 MiB were waiting for it: the next change published for the room finds it over the limit.
    Object.defineProperty(held, 'bufferedAmount', { get: () => 1024 * 1024 });
    // A takeover under another case sends a change of who is online ("ada" → "Ada") and no notice:
    // the change alone must meet the policy.
    const again = await connect(server);
    assert.deepEqual((await again.join('garden', 'Ada', 'session-of-ada-1')).users, ['Ada', 'Slow']);
    assert.equal((await slow.closed).code, 1008);
    assert.equal(slow.received.get('joined')?.count, 1);
  });
});

describe('chat server: origins', () => {
  it("refuses a DNS-rebinding page (Host and Origin both the attacker's) with 403", async () => {
    const server = await startChat();
    const status = await upgradeStatus(server, {
      host: `evil.example:${server.port}`,
      origin: `http://evil.example:${server.port}`,
    });
    assert.equal(status, 403);
  });

  it("accepts the page's own origins, and those allowed; no others", async () => {
    const server = await startChat({ allowedOrigins: ['https://Chat.Example.com:443'] });
    for (const origin of [
      `http://127.0.0.1:${server.port}`,
      `http://localhost:${server.port}`,
      'https://chat.example.com',
    ]) {
      const client = await connect(server, { origin });
      assert.equal((await client.join('ok', 'Ada')).name, 'Ada', origin);
      client.close();
      await client.closed;
    }
    for (const origin of [
      'http://chat.example.com',
      `http://127.0.0.1:${server.port + 1}`,
      `https://127.0.0.1:${server.port}`,
      'null',
    ]) {
      assert.equal(await upgradeStatus(server, { origin }), 403, origin);
    }
    // No Origin: not a browser, let in.
    assert.equal(await upgradeStatus(server, {}), 101);
  });

  it('checks the option', async () => {
    for (const bad of [
      'chat.example.com',
      'https://x.example/path',
      'ftp://x.example',
      'https://u@x.example',
    ]) {
      await assert.rejects(startChat({ allowedOrigins: [bad] }), { code: 'WS_ERR_INVALID_ARGUMENT' });
    }
  });
});

describe('chat server: a handler that throws', () => {
  it('closes that connection with 1011, logs an error, and goes on serving', async () => {
    const lines: [string, string][] = [];
    const server = await startChat({
      log: (line, level) => {
        if (line.startsWith('Crash joined')) throw new Error('a bug in the log');
        lines.push([line, level]);
      },
    });
    const crash = await connect(server);
    crash.send({ type: 'join', room: 'garden', name: 'Crash' });
    assert.deepEqual(await crash.closed, { code: 1011, reason: 'Internal server error' });
    assert.ok(
      lines.some(([line, level]) => level === 'error' && /internal error.*a bug in the log/.test(line)),
      JSON.stringify(lines),
    );
    const ada = await connect(server);
    assert.deepEqual((await ada.join('garden', 'Ada')).users, ['Ada']);
  });
});

/** The status of a hand-made upgrade request to the chat's endpoint with these headers. */
function upgradeStatus(server: ChatServer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: server.port,
      path: '/ws',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
        ...headers,
      },
      timeout: TIMEOUT,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
