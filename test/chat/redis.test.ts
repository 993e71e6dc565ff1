// Two chat servers sharing rooms through Redis: a real redis-server on a free port, a RedisBroker
// each (as two processes would have), and the same through `wskit chat --redis`.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Broker, RedisBroker } from '../../src/index.js';
import { stopAll, wskit } from '../cli/helpers.js';
import { ChatClient, cleanup, connect, startChat, startRedis } from './helpers.js';

const CHAT_PROCESS = fileURLToPath(new URL('./fixtures/chat-process.ts', import.meta.url));

describe('chat servers sharing Redis', () => {
  let redis: { url: string; process: ChildProcess };
  const brokers: Broker[] = [];

  before(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    stopAll();
    await cleanup();
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });

  after(() => {
    redis?.process.kill();
  });

  it('deliver messages and notices across servers, and share who is online', async () => {
    const brokerOne = new RedisBroker({ url: redis.url });
    const brokerTwo = new RedisBroker({ url: redis.url });
    brokers.push(brokerOne, brokerTwo);
    const one = await startChat({ broker: brokerOne });
    const two = await startChat({ broker: brokerTwo });
    const ada = await connect(one);
    const grace = await connect(two);
    await ada.join('garden', 'Ada');
    await grace.join('garden', 'Grace');
    // Subscriptions to Redis take a round trip: presence from both sides means both are listening.
    await ada.peopleAre(['Ada', 'Grace'], 10_000);
    await grace.peopleAre(['Ada', 'Grace'], 10_000);
    grace.send({ type: 'message', text: 'through redis' });
    const got = await ada.next('message', (m) => m.text === 'through redis');
    assert.equal(got.name, 'Grace');
    ada.send({ type: 'message', text: 'and back' });
    assert.equal((await grace.next('message', (m) => m.text === 'and back')).name, 'Ada');
    grace.close();
    assert.equal((await ada.next('left')).name, 'Grace');
    await ada.peopleAre(['Ada']);
  });

  it('presence survives a server crash: the people of a killed server leave the lists once their entries expire', async () => {
    const broker = new RedisBroker({ url: redis.url, presenceTtl: 1000 });
    brokers.push(broker);
    const one = await startChat({ broker });
    const child = fork(CHAT_PROCESS, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, REDIS_URL: redis.url, PRESENCE_TTL: '1000' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = once(child, 'exit');
    try {
      const [{ port }] = (await once(child, 'message', { signal: AbortSignal.timeout(15_000) })) as [
        { port: number },
      ];
      const ada = await connect(one);
      await ada.join('garden', 'Ada');
      const grace = await ChatClient.open(`ws://127.0.0.1:${port}/ws`);
      const linus = await ChatClient.open(`ws://127.0.0.1:${port}/ws`);
      await grace.join('garden', 'Grace');
      await linus.join('garden', 'Linus');
      await ada.peopleAre(['Ada', 'Grace', 'Linus'], 10_000);
      ada.drain();
      // Killed: no leave reaches Redis; the entries expire (1 s) and server one's renewal reaps them.
      child.kill('SIGKILL');
      await exited;
      await ada.peopleAre(['Ada'], 10_000);
      assert.deepEqual(one.users('garden'), ['Ada']);
      // A newcomer on the surviving server is welcomed without ghosts.
      const bob = await connect(one);
      assert.deepEqual((await bob.join('garden', 'Bob')).users, ['Ada', 'Bob']);
      // Since the crash: Grace and Linus removed (one change or one each), nobody but Bob added.
      const adds = ada.drain().filter((m) => m.type === 'users' && m.add.some((n) => n !== 'Bob'));
      assert.deepEqual(adds, [], 'no ghost re-added after the crash');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('wskit chat --redis: two commands on two ports share a room', async () => {
    const first = wskit('chat', '--port', '0', '--redis', redis.url);
    const second = wskit('chat', '--port', '0', '--redis', redis.url);
    const [, urlOne] = await first.waitForLine('stdout', /listening on (\S+)$/, 10_000);
    const [, urlTwo] = await second.waitForLine('stdout', /listening on (\S+)$/, 10_000);
    await first.waitForLine('stdout', /rooms shared through redis:\/\//);
    const ada = await ChatClient.open(`${urlOne.replace('http', 'ws')}ws`);
    const grace = await ChatClient.open(`${urlTwo.replace('http', 'ws')}ws`);
    try {
      await ada.join('lobby', 'Ada');
      await grace.join('lobby', 'Grace');
      await ada.peopleAre(['Ada', 'Grace'], 10_000);
      await grace.peopleAre(['Ada', 'Grace'], 10_000);
      ada.send({ type: 'message', text: 'hello from 1' });
      assert.equal((await grace.next('message', (m) => m.text === 'hello from 1')).name, 'Ada');
    } finally {
      ada.ws.terminate();
      grace.ws.terminate();
    }
    first.kill('SIGTERM');
    second.kill('SIGTERM');
    assert.equal((await first.exit(10_000)).status, 0);
    assert.equal((await second.exit(10_000)).status, 0);
  });
});
