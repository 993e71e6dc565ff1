// `wskit connect --proxy URL` and `--proxy env` (HTTP_PROXY / HTTPS_PROXY in the child's
// environment), over HTTP/1.1 and with --http2, run as a child process, through the test's CONNECT proxy.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import { CliProcess, type Exit, runWskit, stopAll } from '../cli/helpers.js';
import { selfSignedCertificate } from '../node/certificate.js';
import { defer, next, portOf, runCleanups, serve, type WebSocket } from '../node/helpers.js';
import { startProxy } from './connect-proxy.js';

afterEach(async () => {
  stopAll();
  await runCleanups();
});

async function setup() {
  const s = await serve();
  s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  const proxy = await startProxy({ auth: 'me:pw' });
  defer(() => proxy.close());
  return { s, proxy };
}

/** The test's environment without any proxy variable, plus `extra`. */
function proxyEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'http_proxy',
    'HTTP_PROXY',
    'https_proxy',
    'HTTPS_PROXY',
    'no_proxy',
    'NO_PROXY',
    'all_proxy',
    'ALL_PROXY',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

function runWithEnv(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<Exit> {
  const cli = new CliProcess(args, [], { env });
  cli.end(input);
  return cli.exit();
}

/** An echo server on cleartext HTTP/2 (h2c) only; records each request's HTTP version. */
async function h2Echo() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true });
  const versions: string[] = [];
  wss.on('connection', (ws, req) => {
    versions.push((req as { httpVersion: string }).httpVersion);
    ws.on('message', (d, b) => ws.send(d, { binary: b }));
  });
  await next(wss, 'listening');
  defer(() => new Promise((r) => wss.close(r)));
  return { wss, port: portOf(wss), versions };
}

/**
 * A name for the loopback server that only the proxy resolves: the environment's proxy is never used
 * for loopback hosts (127.0.0.1, localhost), so `--proxy env` needs another name to go through it.
 */
const NAME = 'echo.wskit.invalid';

describe('wskit connect --proxy', () => {
  it('connects through the proxy with the credentials of its URL', async () => {
    const { s, proxy } = await setup();
    const url = `http://me:pw@127.0.0.1:${proxy.port}`;
    const exit = await runWskit(['connect', '--proxy', url, `${s.url}/echo`], 'through\n');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'through\n');
    assert.deepEqual(proxy.requests, [`127.0.0.1:${s.port}`]);
  });

  it('reports a proxy asking for credentials and exits non-zero', async () => {
    const { s, proxy } = await setup();
    const exit = await runWskit(['connect', '--proxy', proxy.url, s.url], '');
    assert.equal(exit.status, 1, exit.stderr);
    assert.match(exit.stderr, /requires authentication \(407/);
  });

  it('refuses a proxy URL it cannot use as a usage error', async () => {
    const exit = await runWskit(['connect', '--proxy', 'socks5://127.0.0.1:1', 'ws://127.0.0.1:1/'], '');
    assert.equal(exit.status, 2, exit.stderr);
    assert.match(exit.stderr, /socks5: proxy is not supported/);
  });

  it('--proxy env: HTTP_PROXY in the environment (no NO_PROXY) carries a ws:// connection', async () => {
    const s = await serve();
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const proxy = await startProxy({ hosts: { [NAME]: '127.0.0.1' } });
    defer(() => proxy.close());
    // HTTPS_PROXY names a proxy that is not there: a ws:// URL must use HTTP_PROXY.
    const env = proxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: 'http://127.0.0.1:1' });
    const exit = await runWithEnv(
      ['connect', '--proxy', 'env', `ws://${NAME}:${s.port}/echo`],
      'from env\n',
      env,
    );
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'from env\n');
    assert.deepEqual(proxy.requests, [`${NAME}:${s.port}`]);
  });

  it('--proxy env: HTTPS_PROXY carries a wss:// connection', async () => {
    const { cert, key } = selfSignedCertificate();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    await next(wss, 'listening');
    defer(() => new Promise((r) => wss.close(r)));
    const proxy = await startProxy({ hosts: { [NAME]: '127.0.0.1' } });
    defer(() => proxy.close());
    const env = proxyEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: 'http://127.0.0.1:1' });
    const url = `wss://${NAME}:${portOf(wss)}/`;
    const exit = await runWithEnv(['connect', '--proxy', 'env', '--no-check', url], 'secure\n', env);
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'secure\n');
    assert.deepEqual(proxy.requests, [`${NAME}:${portOf(wss)}`]);
  });

  it('--proxy URL --http2: the HTTP/2 session goes through the proxy', async () => {
    const server = await h2Echo();
    const proxy = await startProxy();
    defer(() => proxy.close());
    const url = `ws://127.0.0.1:${server.port}/`;
    const exit = await runWskit(['connect', '--proxy', proxy.url, '--http2', url], 'two\n');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'two\n');
    assert.deepEqual(proxy.requests, [`127.0.0.1:${server.port}`]);
    assert.deepEqual(server.versions, ['2.0']);
  });

  it('--proxy env --http2: HTTP_PROXY from the environment, over HTTP/2', async () => {
    const server = await h2Echo();
    const proxy = await startProxy({ hosts: { [NAME]: '127.0.0.1' } });
    defer(() => proxy.close());
    const env = proxyEnv({ HTTP_PROXY: proxy.url });
    const exit = await runWithEnv(
      ['connect', '--proxy', 'env', '--http2', `ws://${NAME}:${server.port}/`],
      'env two\n',
      env,
    );
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'env two\n');
    assert.deepEqual(proxy.requests, [`${NAME}:${server.port}`]);
    assert.deepEqual(server.versions, ['2.0']);
  });
});
