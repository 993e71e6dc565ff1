// `wskit chat`, run as a child process (the built command in dist/).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { runWskit, stopAll, wskit } from '../cli/helpers.js';
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
    for (const option of ['--port PORT', '--host HOST', '--redis URL', '-q, --quiet', '-h, --help']) {
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
});
