// `wskit echo`, run as a child process, with ws as the client.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { rawUpgrade, runWskit, startEcho, stopAll, wskitWithImport } from './helpers.js';

const THROWING_HANDLERS = new URL('./fixtures/throwing-handlers.mjs', import.meta.url).href;

afterEach(stopAll);

function openClient(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })),
  );
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
}

describe('wskit echo', () => {
  it('listens on the port the system picked and prints its URL', async () => {
    const { cli, url } = await startEcho();
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, 'ws://127.0.0.1:0');
    const ws = await openClient(url);
    await cli.waitForLine('stdout', /^connection 1 opened from 127\.0\.0\.1:\d+$/);
    ws.close();
    await closed(ws);
  });

  it('echoes text as text and binary as binary', async () => {
    const { url } = await startEcho();
    const ws = await openClient(url);
    ws.send('héllo');
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'héllo');
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    ws.send(bytes);
    const binary = await nextMessage(ws);
    assert.equal(binary.isBinary, true);
    assert.deepEqual(binary.data, bytes);
    ws.send('');
    assert.equal((await nextMessage(ws)).data.length, 0);
    ws.close(1000);
    assert.equal((await closed(ws)).code, 1000);
  });

  it("answers a client's Close with the same code and reason", async () => {
    const { cli, url } = await startEcho();
    const ws = await openClient(url);
    ws.close(4001, 'bye now');
    assert.deepEqual(await closed(ws), { code: 4001, reason: 'bye now' });
    await cli.waitForLine('stdout', /^connection 1 closed: 4001 bye now$/);
  });

  it('accepts the first subprotocol offered', async () => {
    const { url } = await startEcho();
    const ws = await openClient(url, ['chat.v2', 'chat.v1']);
    assert.equal(ws.protocol, 'chat.v2');
    ws.close();
    await closed(ws);
  });

  it('enforces --max-payload: a bigger message closes the connection with 1009', async () => {
    const { cli, url } = await startEcho('--max-payload', '1K');
    const ws = await openClient(url);
    ws.send(Buffer.alloc(1024, 1));
    assert.equal((await nextMessage(ws)).data.length, 1024);
    ws.send(Buffer.alloc(1025, 1));
    assert.equal((await closed(ws)).code, 1009);
    await cli.waitForLine('stderr', /^wskit echo: connection 1 error: /);
  });

  it('accepts connections on --path only', async () => {
    const { url } = await startEcho('--path', '/ws');
    assert.match(url, /\/ws$/);
    const ws = await openClient(url);
    ws.close();
    await closed(ws);
    const wrong = new WebSocket(url.replace(/\/ws$/, '/other'));
    const [, res] = await once(wrong, 'unexpected-response');
    assert.equal(res.statusCode, 400);
    wrong.on('error', () => {}); // ws reports the aborted handshake as an error
    wrong.terminate();
  });

  it('negotiates permessage-deflate by default, and not with --no-deflate', async () => {
    const on = await startEcho('--quiet');
    const compressed = await openClient(on.url);
    assert.match(compressed.extensions, /^permessage-deflate\b/);
    compressed.send('x'.repeat(2000));
    assert.equal((await nextMessage(compressed)).data.toString(), 'x'.repeat(2000));
    compressed.close();
    await closed(compressed);

    const off = await startEcho('--quiet', '--no-deflate');
    const plain = await openClient(off.url);
    assert.equal(plain.extensions, '');
    plain.send('x');
    assert.equal((await nextMessage(plain)).data.toString(), 'x');
    plain.close();
    await closed(plain);
  });

  it('a handler that throws closes its connection with 1011, says so on stderr, and the server goes on', async () => {
    const cli = wskitWithImport(THROWING_HANDLERS, 'echo', '--port', '0', '--quiet');
    const [, url] = await cli.waitForLine('stdout', /^wskit echo server listening on (ws:\/\/\S+)$/);
    const ws = await openClient(url);
    const wsClosed = closed(ws);
    ws.send('wskit-test-throw');
    assert.deepEqual(await wsClosed, { code: 1011, reason: 'Internal server error' });
    await cli.waitForLine(
      'stderr',
      /^wskit echo: connection 1: internal error, closed with 1011: provoked by the test \(send\)$/,
    );
    const next = await openClient(url);
    next.send('still here');
    assert.equal((await nextMessage(next)).data.toString(), 'still here');
    next.close();
    await closed(next);
    assert.equal(cli.child.exitCode, null);
  });

  it('answers odd request targets without dying', async () => {
    const { cli, url } = await startEcho('--quiet');
    const port = Number(new URL(url).port);
    for (const target of ['//', '//@', 'http://[', '//x:99999/']) {
      assert.equal(await rawUpgrade(port, target), 101, target);
    }
    const ws = await openClient(url);
    ws.send('x');
    assert.equal((await nextMessage(ws)).data.toString(), 'x');
    ws.close();
    await closed(ws);
    assert.equal(cli.child.exitCode, null);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}, closes the connections with 1001 and exits with 0`, async () => {
      const { cli, url } = await startEcho();
      const ws = await openClient(url);
      await cli.waitForLine('stdout', /^connection 1 opened/);
      const wsClosed = closed(ws);
      cli.kill(signal);
      assert.equal((await wsClosed).code, 1001);
      const exit = await cli.exit();
      assert.equal(exit.status, 0, exit.stderr);
      assert.match(exit.stdout, /shutting down/);
    });
  }

  it('--quiet prints the listening line only', async () => {
    const { cli, url } = await startEcho('--quiet');
    const ws = await openClient(url);
    ws.close();
    await closed(ws);
    cli.kill();
    const exit = await cli.exit();
    assert.equal(exit.status, 0);
    assert.deepEqual(exit.stdout.trim().split('\n'), [`wskit echo server listening on ${url}`]);
  });

  it('exits with 1 and says why when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const exit = await runWskit(['echo', '--port', String(port)]);
      assert.equal(exit.status, 1);
      assert.match(
        exit.stderr,
        new RegExp(`^wskit echo: cannot listen on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });
});
