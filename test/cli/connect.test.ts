// `wskit connect`, run as a child process, against a ws server in this process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { runWskit, stopAll, wskit } from './helpers.js';

afterEach(stopAll);

/** Behaviour by request path: /echo echoes, /close-4000 closes at once, /drop drops the TCP connection... */
let server: WebSocketServer;
let base: string;
const serverCloses: { code: number; reason: string }[] = [];

before(async () => {
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: ({ req }: { req: IncomingMessage }) => req.url !== '/forbidden',
  });
  await once(server, 'listening');
  base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  server.on('connection', (ws, req) => {
    ws.on('close', (code, reason) => serverCloses.push({ code, reason: String(reason) }));
    switch (req.url) {
      case '/echo':
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        break;
      case '/close-4000':
        ws.close(4000, 'go away');
        break;
      case '/drop':
        ws.terminate();
        break;
      case '/binary':
        ws.send(Buffer.from([1, 2, 0xff]));
        ws.send(Buffer.alloc(40, 0xab));
        break;
      case '/big':
        ws.send('x'.repeat(100));
        break;
      case '/handshake':
        ws.send(`${ws.protocol}|${req.headers['x-test']}|${req.headers.origin}`);
        break;
    }
  });
});

after(() => {
  for (const ws of server.clients) ws.terminate();
  server.close();
});

async function closedPort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

describe('wskit connect', () => {
  it('sends each stdin line, prints the replies, and at EOF closes with 1000 and exits 0', async () => {
    serverCloses.length = 0;
    const exit = await runWskit(['connect', `${base}/echo`], 'one\ntwo words\n\nthree');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'one\ntwo words\n\nthree\n');
    assert.match(exit.stderr, /^connected to ws:\/\/127\.0\.0\.1:\d+\/echo\n/);
    assert.match(exit.stderr, /disconnected \(1000\)/);
    assert.deepEqual(serverCloses, [{ code: 1000, reason: '' }]);
  });

  it('waits for the connection before reading, and keeps the output plain in a pipe', async () => {
    const cli = wskit('connect', `${base}/echo`);
    await cli.waitForLine('stderr', /^connected to /);
    cli.write('first\n');
    await cli.waitForLine('stdout', /^first$/);
    cli.write('second\n');
    await cli.waitForLine('stdout', /^second$/);
    cli.end();
    const exit = await cli.exit();
    assert.equal(exit.status, 0);
    assert.equal(exit.stdout, 'first\nsecond\n');
  });

  it('prints binary messages as a size and a hex preview', async () => {
    const cli = wskit('connect', `${base}/binary`);
    await cli.waitForLine('stdout', /^<binary 3 bytes: 01 02 ff>$/);
    const { input } = await cli.waitForLine('stdout', /^<binary 40 bytes: /);
    assert.equal(input, `<binary 40 bytes: ${'ab '.repeat(32).trim()} ...>`);
    cli.end();
    assert.equal((await cli.exit()).status, 0);
  });

  it('runs the slash commands: /binary, /ping, //text, /help', async () => {
    const exit = await runWskit(
      ['connect', `${base}/echo`],
      '/binary 01 02 ff\n/binary abc\n/ping hello\n//not a command\n/help\n/nope\n',
    );
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, '<binary 3 bytes: 01 02 ff>\n<binary 3 bytes: 61 62 63>\n/not a command\n');
    assert.match(exit.stderr, /^pong: hello$/m);
    assert.match(exit.stderr, /^Commands:\n {2}\/ping/m);
    assert.match(exit.stderr, /^wskit connect: unknown command \/nope/m);
  });

  it('/close CODE REASON closes with that code; a code other than 1000 exits with 3', async () => {
    serverCloses.length = 0;
    const cli = wskit('connect', `${base}/echo`);
    cli.write('/close 4321 all done\n');
    const exit = await cli.exit();
    assert.equal(exit.status, 3);
    assert.match(exit.stderr, /the connection closed with code 4321: all done/);
    assert.deepEqual(serverCloses, [{ code: 4321, reason: 'all done' }]);
  });

  it('/close with a code that may not be sent is refused, and the connection stays open', async () => {
    const cli = wskit('connect', `${base}/echo`);
    cli.write('/close 1006\n');
    await cli.waitForLine(
      'stderr',
      /^wskit connect: First argument must be a valid error code number \(invalid close code 1006/,
    );
    cli.write('still open\n');
    await cli.waitForLine('stdout', /^still open$/);
    cli.write('/close\n');
    assert.equal((await cli.exit()).status, 0);
  });

  it('exits with 3 and prints the code and reason when the server closes with 4000', async () => {
    const cli = wskit('connect', `${base}/close-4000`);
    const exit = await cli.exit();
    assert.equal(exit.status, 3);
    assert.match(exit.stderr, /^wskit connect: the connection closed with code 4000: go away$/m);
  });

  it('exits with 3 when the connection ends without a closing handshake (1006)', async () => {
    const exit = await wskit('connect', `${base}/drop`).exit();
    assert.equal(exit.status, 3);
    assert.match(exit.stderr, /without a closing handshake \(1006\)/);
  });

  it('exits with 1 and says why when nothing listens on the port', async () => {
    const port = await closedPort();
    const exit = await runWskit(['connect', `ws://127.0.0.1:${port}`]);
    assert.equal(exit.status, 1);
    assert.match(
      exit.stderr,
      new RegExp(`^wskit connect: cannot connect to ws://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    assert.equal(exit.stdout, '');
  });

  it('exits with 1 when the server refuses the handshake', async () => {
    const exit = await runWskit(['connect', `${base}/forbidden`]);
    assert.equal(exit.status, 1);
    assert.match(exit.stderr, /cannot connect to .*\/forbidden: Unexpected server response: 401/);
  });

  it('adds ws:// to a URL without a scheme', async () => {
    const exit = await runWskit(['connect', `${base.slice('ws://'.length)}/echo`], 'hi\n');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'hi\n');
  });

  it('sends the subprotocols, headers and origin given', async () => {
    const cli = wskit(
      'connect',
      ...['-p', 'chat.v2', '--subprotocol=chat.v1', '-H', 'X-Test: one', '--header', 'x-test: two'],
      ...['--origin', 'https://example.com', `${base}/handshake`],
    );
    await cli.waitForLine('stderr', /^connected to .* \(subprotocol chat\.v2\)$/);
    await cli.waitForLine('stdout', /^chat\.v2\|one, two\|https:\/\/example\.com$/);
    cli.end();
    assert.equal((await cli.exit()).status, 0);
  });

  it('enforces --max-payload: a bigger message closes the connection with 1009', async () => {
    const exit = await wskit('connect', '--max-payload', '99', `${base}/big`).exit();
    assert.equal(exit.status, 3);
    assert.match(exit.stderr, /closed with code 1009/);
  });

  it('--quiet leaves out the notices', async () => {
    const exit = await runWskit(['connect', '-q', `${base}/echo`], 'hi\n');
    assert.equal(exit.status, 0);
    assert.equal(exit.stdout, 'hi\n');
    assert.equal(exit.stderr, '');
  });

  it('on SIGTERM, closes with 1000 and exits with 0', async () => {
    const cli = wskit('connect', `${base}/echo`);
    await cli.waitForLine('stderr', /^connected to /);
    cli.kill('SIGTERM');
    const exit = await cli.exit();
    assert.equal(exit.status, 0, exit.stderr);
  });
});

describe('wskit connect over TLS', () => {
  let dir = '';
  let tlsServer: ReturnType<typeof createHttpsServer> | null = null;
  let url = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wskit-cli-'));
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ]),
        { stdio: 'ignore' },
      );
    } catch {
      return; // no openssl to make a test certificate: the tests below skip
    }
    tlsServer = createHttpsServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    });
    const wss = new WebSocketServer({ server: tlsServer });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    url = `wss://127.0.0.1:${(tlsServer.address() as { port: number }).port}`;
  });

  after(() => {
    tlsServer?.closeAllConnections();
    tlsServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed certificate and exits with 1, suggesting --no-check', async (t) => {
    if (tlsServer === null) return t.skip('no openssl');
    const exit = await runWskit(['connect', url]);
    assert.equal(exit.status, 1);
    assert.match(exit.stderr, /cannot connect to wss:.*self[- ]signed.*--no-check/);
  });

  it('--no-check skips the certificate verification', async (t) => {
    if (tlsServer === null) return t.skip('no openssl');
    const exit = await runWskit(['connect', '--no-check', url], 'secure\n');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'secure\n');
  });
});
