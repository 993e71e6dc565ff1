// `wskit broadcast`, run as child processes, with ws as the client; --redis against a redis-server the
// test starts on a free loopback port.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { freePort, RedisServer, stopProcesses } from '../pubsub/redis-helpers.js';
import { type CliProcess, rawUpgrade, runWskit, stopAll, wskit, wskitWithImport } from './helpers.js';

const THROWING_HANDLERS = new URL('./fixtures/throwing-handlers.mjs', import.meta.url).href;

afterEach(stopAll);
after(stopProcesses);

const clients = new Set<WebSocket>();
afterEach(() => {
  for (const ws of clients) ws.terminate();
  clients.clear();
});

async function startBroadcast(...args: string[]): Promise<{ cli: CliProcess; url: string }> {
  const cli = wskit('broadcast', '--port', '0', ...args);
  const [, url] = await cli.waitForLine('stdout', /^wskit broadcast server listening on (ws:\/\/\S+)$/);
  return { cli, url };
}

/** The messages a ws client receives, in order, and a way to wait for them. */
interface Client {
  ws: WebSocket;
  received: { data: string; isBinary: boolean }[];
  until(count: number): Promise<{ data: string; isBinary: boolean }[]>;
}

async function openClient(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  clients.add(ws);
  const received: Client['received'] = [];
  let waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    received.push({ data: data.toString(), isBinary });
    const current = waiters;
    waiters = [];
    for (const w of current) w();
  });
  await once(ws, 'open');
  return {
    ws,
    received,
    until: (count) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${count} messages; got ${received.length}`)), 5_000);
        const check = () => {
          if (received.length < count) return waiters.push(check);
          clearTimeout(timer);
          resolve(received);
        };
        check();
      }),
  };
}

describe('wskit broadcast', () => {
  it('--help documents every option and the exit statuses, in 80 columns', async () => {
    const exit = await runWskit(['broadcast', '--help']);
    assert.equal(exit.status, 0);
    assert.match(exit.stdout, /^Usage: wskit broadcast \[options\]/);
    const options = [
      '--port PORT',
      '--host HOST',
      '--redis URL',
      '--max-payload N',
      '--no-deflate',
      '-q, --quiet',
    ];
    for (const option of [...options, '-h, --help']) assert.ok(exit.stdout.includes(option), option);
    for (const status of ['0', '1', '2']) assert.match(exit.stdout, new RegExp(`^ {2}${status} {2}`, 'm'));
    for (const line of exit.stdout.split('\n')) assert.ok(line.length <= 80, line);
    const main = await runWskit(['--help']);
    assert.match(main.stdout, /^ {2}broadcast\n {11}Run a server relaying each message/m);
  });

  it('sends each message to every client on the same URL path, the sender included, with its type', async () => {
    const { cli, url } = await startBroadcast();
    const a = await openClient(`${url}/room1`);
    await cli.waitForLine('stdout', /^connection 1 opened from 127\.0\.0\.1:\d+ on topic \/room1$/);
    const b = await openClient(`${url}/room1?ignored=query`);
    const c = await openClient(`${url}/room2`);
    a.ws.send('hello');
    b.ws.send(Buffer.from([1, 2, 3]));
    const expected = [
      { data: 'hello', isBinary: false },
      { data: '\u0001\u0002\u0003', isBinary: true },
    ];
    assert.deepEqual(await a.until(2), expected);
    assert.deepEqual(await b.until(2), expected);
    c.ws.send('only room2');
    assert.deepEqual(await c.until(1), [{ data: 'only room2', isBinary: false }]);
    a.ws.close(1000);
    await cli.waitForLine('stdout', /^connection 1 closed: 1000$/);
  });

  it('enforces --max-payload', async () => {
    const { url } = await startBroadcast('--max-payload', '1K');
    const a = await openClient(`${url}/t`);
    a.ws.send(Buffer.alloc(1025));
    const [code] = await once(a.ws, 'close');
    assert.equal(code, 1009);
  });

  it('negotiates permessage-deflate by default, and not with --no-deflate', async () => {
    const on = await startBroadcast('--quiet');
    const a = await openClient(`${on.url}/t`);
    assert.match(a.ws.extensions, /^permessage-deflate\b/);
    const off = await startBroadcast('--quiet', '--no-deflate');
    const b = await openClient(`${off.url}/t`);
    assert.equal(b.ws.extensions, '');
    b.ws.send('still relayed');
    assert.deepEqual(await b.until(1), [{ data: 'still relayed', isBinary: false }]);
  });

  it('answers any request target without dying, then serves a normal client', async () => {
    const { cli, url } = await startBroadcast();
    const port = Number(new URL(url).port);
    // Each of these made new URL() throw in the connection handler, which ended the process.
    const topics = { '//': '//', '//@': '//@', 'http://[': '/', '//x:99999/': '//x:99999/' };
    for (const [target, topic] of Object.entries(topics)) {
      assert.equal(await rawUpgrade(port, target), 101, target);
      const [, opened] = await cli.waitForLine('stdout', /^connection \d+ opened from .* on topic (\S+)$/);
      assert.equal(opened, topic, target);
    }
    // No path at all: refused before the upgrade.
    assert.equal(await rawUpgrade(port, '*'), 400);
    const a = await openClient(`${url}/after`);
    const b = await openClient(`${url}/after`);
    a.ws.send('alive');
    assert.deepEqual(await b.until(1), [{ data: 'alive', isBinary: false }]);
    assert.equal(cli.child.exitCode, null);
  });

  it('a handler that throws closes its connection with 1011, says so on stderr, and the server goes on', async () => {
    const cli = wskitWithImport(THROWING_HANDLERS, 'broadcast', '--port', '0', '--quiet');
    const [, url] = await cli.waitForLine('stdout', /^wskit broadcast server listening on (ws:\/\/\S+)$/);
    const a = await openClient(`${url}/t`);
    const b = await openClient(`${url}/t`);
    const aClosed = once(a.ws, 'close');
    a.ws.send('wskit-test-throw');
    const [code, reason] = await aClosed;
    assert.equal(code, 1011);
    assert.equal(String(reason), 'Internal server error');
    await cli.waitForLine(
      'stderr',
      /^wskit broadcast: connection 1: internal error, closed with 1011: provoked by the test \(publish\)$/,
    );
    b.ws.send('after');
    assert.deepEqual(await b.until(1), [{ data: 'after', isBinary: false }]);
    const c = await openClient(`${url}/t`);
    c.ws.send('new client');
    assert.deepEqual(
      (await c.until(1)).map((m) => m.data),
      ['new client'],
    );
    assert.equal(cli.child.exitCode, null);
  });

  it('on SIGTERM, closes the connections with 1001 and exits with 0', async () => {
    const { cli, url } = await startBroadcast('--quiet');
    const a = await openClient(`${url}/t`);
    const closed = once(a.ws, 'close');
    cli.kill('SIGTERM');
    assert.equal((await closed)[0], 1001);
    const exit = await cli.exit();
    assert.equal(exit.status, 0, exit.stderr);
    assert.deepEqual(exit.stdout.trim().split('\n'), [`wskit broadcast server listening on ${url}`]);
  });

  it('mistakes on the command line exit with 2; a port in use with 1', async () => {
    const bad = await runWskit(['broadcast', '--redis', 'http://127.0.0.1:6379']);
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /invalid value "http:\/\/127\.0\.0\.1:6379" for --redis: expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    assert.equal((await runWskit(['broadcast', 'extra'])).status, 2);

    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const exit = await runWskit(['broadcast', '--port', String(port)]);
      assert.equal(exit.status, 1);
      assert.match(
        exit.stderr,
        new RegExp(`^wskit broadcast: cannot listen on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });
});

describe('wskit broadcast --redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.kill());

  it("two servers sharing a Redis relay each other's messages", async () => {
    const one = await startBroadcast('--redis', redis.url);
    const two = await startBroadcast('--redis', redis.url);
    for (const { cli } of [one, two])
      await cli.waitForLine('stdout', /^connected to Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const x = await openClient(`${one.url}/room`);
    const y = await openClient(`${two.url}/room`);
    const z = await openClient(`${two.url}/elsewhere`);
    for (const { cli } of [one, two]) await cli.waitForLine('stdout', /^topic \/room subscribed in Redis$/);
    x.ws.send('across');
    y.ws.send(Buffer.from('back'));
    // Each server's own message first (delivered at once), the other's through Redis.
    assert.deepEqual((await x.until(2)).map((m) => m.data).sort(), ['across', 'back']);
    assert.deepEqual((await y.until(2)).map((m) => m.data).sort(), ['across', 'back']);
    assert.equal(x.received.find((m) => m.data === 'back')?.isBinary, true);
    z.ws.send('alone');
    assert.deepEqual(
      (await z.until(1)).map((m) => m.data),
      ['alone'],
    );
  });

  it('without Redis, says so on stderr and still relays between its own clients', async () => {
    const { cli, url } = await startBroadcast('--redis', `redis://127.0.0.1:${await freePort()}`);
    await cli.waitForLine(
      'stderr',
      /^wskit broadcast: Redis at redis:\/\/127\.0\.0\.1:\d+: cannot connect .*ECONNREFUSED/,
    );
    const a = await openClient(`${url}/room`);
    const b = await openClient(`${url}/room`);
    a.ws.send('local');
    assert.deepEqual(
      (await b.until(1)).map((m) => m.data),
      ['local'],
    );
    await cli.waitForLine(
      'stderr',
      /^wskit broadcast: Redis .*: not connected .*topic "\/room" reached this process's subscribers only/,
    );
    cli.kill('SIGTERM');
    assert.equal((await cli.exit()).status, 0);
  });
});
