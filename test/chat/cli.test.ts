// `wskit chat`, run as a child process (the built command in dist/).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { runWskit, stopAll, wskit, wskitWithImport } from '../cli/helpers.js';

const THROWING_HANDLERS = new URL('../cli/fixtures/throwing-handlers.mjs', import.meta.url).href;

import { TopicsPeer } from '../pubsub/topics-peer.js';
import { ChatClient } from './helpers.js';

afterEach(stopAll);

describe('wskit chat', () => {
  it('serves the page and the WebSocket on one port, prints the URL, logs joins, exits 0 on SIGTERM', async () => {
    const cli = wskit('chat', '--port', '0');
    const [, url] = await cli.waitForLine(
      'stdout',
      /^wskit chat server listening on (http:\/\/127\.0\.0\.1:\d+\/)$/,
    );
    await cli.waitForLine('stdout', /^Open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/chat\.js"><\/script>/);
    assert.equal((await fetch(`${url}chat.css`)).headers.get('content-type'), 'text/css; charset=utf-8');

    const client = await ChatClient.open(`${url.replace('http', 'ws')}ws`);
    await client.join('lobby', 'Ada');
    client.send({ type: 'message', text: 'private words' });
    await client.next('message');
    await cli.waitForLine('stdout', /^Ada joined #lobby$/);
    const closed = client.closed;
    cli.kill('SIGTERM');
    assert.equal((await closed).code, 1001);
    const exit = await cli.exit();
    assert.equal(exit.status, 0, exit.stderr);
    assert.match(exit.stdout, /shutting down/);
    assert.doesNotMatch(exit.stdout, /private words/, 'what people write is not logged');
  });

  it('--quiet prints the listening lines only', async () => {
    const cli = wskit('chat', '--port', '0', '-q');
    const [, url] = await cli.waitForLine('stdout', /listening on (\S+)$/);
    const client = await ChatClient.open(`${url.replace('http', 'ws')}ws`);
    await client.join('lobby', 'Ada');
    client.close();
    await client.closed;
    cli.kill('SIGINT');
    const exit = await cli.exit();
    assert.equal(exit.status, 0);
    assert.equal(exit.stdout.trim().split('\n').length, 2, exit.stdout);
  });

  it('--help documents the options, fits in 80 columns, and "wskit --help" lists chat', async () => {
    const help = await runWskit(['chat', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: wskit chat \[options\]/);
    for (const option of [
      '--port PORT',
      '--host HOST',
      '--redis URL',
      '--max-room-members N',
      '--history N',
      '--allow-origin ORIGIN',
      '-q, --quiet',
      '-h, --help',
    ]) {
      assert.ok(help.stdout.includes(option), option);
    }
    for (const line of help.stdout.split('\n')) assert.ok(line.length <= 80, line);
    const main = await runWskit(['--help']);
    assert.match(main.stdout, /^ {2}chat +Run a chat app/m);
  });

  it('says what is wrong on the command line, with status 2', async () => {
    for (const [args, pattern] of [
      [['chat', '--port', 'http'], /^wskit chat: invalid value "http" for --port/],
      [
        ['chat', '--redis', 'http://x'],
        /^wskit chat: invalid value "http:\/\/x" for --redis: expected a redis:\/\//,
      ],
      [['chat', '--redis', 'nope'], /^wskit chat: invalid value "nope" for --redis: expected a URL/],
      [['chat', 'extra'], /^wskit chat: unexpected argument "extra"/],
      [['chat', '--prot', '1'], /did you mean --port\?/],
      [
        ['chat', '--max-room-members', '0'],
        /invalid value "0" for --max-room-members: expected a whole number, at least 1/,
      ],
      [['chat', '--history=-1'], /invalid value "-1" for --history/],
      [
        ['chat', '--allow-origin', 'chat.example.com'],
        /invalid value "chat\.example\.com" for --allow-origin: expected an origin/,
      ],
      [['chat', '--allow-origin', 'https://x.example/app'], /for --allow-origin: expected an origin/],
    ] as const) {
      const exit = await runWskit([...args]);
      assert.equal(exit.status, 2, args.join(' '));
      assert.match(exit.stderr, pattern);
    }
  });

  it('exits with 1 and says why when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const exit = await runWskit(['chat', '--port', String(port)]);
      assert.equal(exit.status, 1);
      assert.match(
        exit.stderr,
        new RegExp(`^wskit chat: cannot listen on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });

  it('--max-room-members, --history and --allow-origin reach the server; the page gets wskit/client', async () => {
    const cli = wskit(
      'chat',
      '--port',
      '0',
      '-q',
      '--history',
      '7',
      '--max-room-members',
      '1',
      '--allow-origin',
      'https://chat.example.com',
      '--allow-origin',
      'http://other.example:8000',
    );
    const [, url] = await cli.waitForLine('stdout', /listening on (\S+)$/);
    const endpoint = `${url.replace('http', 'ws')}ws`;
    const ada = await ChatClient.open(endpoint, { origin: 'https://chat.example.com' });
    const welcome = await ada.join('lobby', 'Ada');
    assert.equal(welcome.history, 7);
    // 7 kept: after Ada's joined notice and 9 messages, a newcomer asking for more reads the last 7.
    for (let i = 1; i <= 9; i++) {
      ada.send({ type: 'message', text: `m${i}` });
      await ada.next('message', (m) => m.text === `m${i}`);
    }
    const reader = await TopicsPeer.open(endpoint);
    const read = await reader.request({ type: 'subscribe', topic: welcome.topic, history: 100 });
    assert.equal(read.offset, 10, 'the joined notice and 9 messages');
    const replayed = await reader.until((r) => r.type === 'message', 7);
    assert.deepEqual(
      replayed.map((m) => [m.offset, JSON.parse(m.data as string).text]),
      [4, 5, 6, 7, 8, 9, 10].map((offset) => [offset, `m${offset - 1}`]),
    );
    await reader.request({ type: 'ping' });
    assert.equal(reader.messages(welcome.topic).length, 7, 'no more than 7');
    reader.ws.close();
    // The page imports wskit/client from the server: the ES module build, from dist/client/.
    const module = await fetch(`${url}client/index.js`);
    assert.equal(module.status, 200);
    assert.equal(module.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await module.text(), /\bTopicsClient\b/);
    const other = await ChatClient.open(endpoint, { origin: 'http://other.example:8000' });
    other.send({ type: 'join', room: 'lobby', name: 'Grace' });
    assert.equal((await other.next('error')).code, 'room_full');
    await assert.rejects(ChatClient.open(endpoint, { origin: 'https://evil.example' }), /403/);
    for (const client of [ada, other]) client.close();
    cli.kill('SIGTERM');
    assert.equal((await cli.exit()).status, 0);
  });

  it('a handler that throws closes its connection with 1011, logs it on stderr, and the chat goes on', async () => {
    const cli = wskitWithImport(THROWING_HANDLERS, 'chat', '--port', '0', '-q');
    const [, url] = await cli.waitForLine('stdout', /listening on (\S+)$/);
    const endpoint = `${url.replace('http', 'ws')}ws`;
    const ada = await ChatClient.open(endpoint);
    await ada.join('lobby', 'Ada');
    ada.send({ type: 'message', text: 'wskit-test-throw' });
    assert.deepEqual(await ada.closed, { code: 1011, reason: 'Internal server error' });
    await cli.waitForLine(
      'stderr',
      /^wskit chat: internal error, connection closed with 1011: provoked by the test \(publish\)$/,
    );
    const grace = await ChatClient.open(endpoint);
    await grace.join('lobby', 'Grace');
    grace.send({ type: 'message', text: 'still up' });
    assert.equal((await grace.next('message')).text, 'still up');
    grace.close();
    assert.equal(cli.child.exitCode, null);
  });
});
