// Clients through an HTTP CONNECT proxy written for the test: ws:// and wss://, http:// and
// https:// proxies, Proxy-Authorization, refusals, the environment, the deadline and the signal.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { LookupFunction } from 'node:net';
import { afterEach, before, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import { selfSignedCertificate } from '../node/certificate.js';
import {
  client,
  closeHttp,
  defer,
  next,
  portOf,
  recordClose,
  runCleanups,
  serve,
  type WebSocket,
} from '../node/helpers.js';
import { type ProxyOptions, startProxy, type TestProxy } from './connect-proxy.js';

afterEach(runCleanups);

let tls: { cert: Buffer; key: Buffer };
before(() => {
  tls = selfSignedCertificate();
});

async function proxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const p = await startProxy(options);
  defer(() => p.close());
  return p;
}

async function echoServer() {
  const s = await serve();
  s.wss.on('connection', (ws: WebSocket) =>
    ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })),
  );
  return s;
}

/** Opens, sends 'hello', expects it back, closes cleanly. */
async function roundTrip(ws: WebSocket): Promise<void> {
  await next(ws, 'open');
  ws.send('hello');
  const [data] = await next<[Buffer]>(ws, 'message');
  assert.equal(data.toString(), 'hello');
  const done = recordClose(ws);
  ws.close(1000);
  assert.equal((await done).code, 1000);
}

/** An error event then the close, as a failed handshake reports them. */
async function failure(
  ws: WebSocket,
): Promise<{ error: Error & { code?: string; status?: number }; code: number }> {
  const closing = recordClose(ws);
  const [error] = await next<[Error]>(ws, 'error');
  return { error, code: (await closing).code };
}

async function secureEchoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(tls);
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  defer(() => closeHttp(server as never));
  const wss = new WebSocketServer({ server });
  defer(() => new Promise((resolve) => wss.close(resolve)));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  return { server, port: portOf(server) };
}

describe('proxy option', () => {
  it('tunnels ws:// through an http:// proxy with CONNECT', async () => {
    const s = await echoServer();
    const p = await proxy();
    await roundTrip(client(`${s.url}/path?q=1`, { proxy: p.url }));
    assert.deepEqual(p.requests, [`127.0.0.1:${s.port}`]);
    assert.equal(p.authorizations[0], undefined);
  });

  it('asks for an IPv6 host in brackets ([::1]:port)', async () => {
    const wss = new WebSocketServer({ port: 0, host: '::1' });
    await next(wss, 'listening');
    defer(() => new Promise((resolve) => wss.close(resolve)));
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const port = portOf(wss);
    const p = await proxy();
    await roundTrip(client(`ws://[::1]:${port}/`, { proxy: p.url }));
    assert.deepEqual(p.requests, [`[::1]:${port}`]);
  });

  it('sends Proxy-Authorization from the proxy URL, or from proxyAuth', async () => {
    const s = await echoServer();
    const p = await proxy({ auth: 'user:pa ss' });
    const url = new URL(p.url);
    url.username = 'user';
    url.password = 'pa ss';
    await roundTrip(client(s.url, { proxy: url.href }));
    await roundTrip(client(s.url, { proxy: p.url, proxyAuth: 'user:pa ss' }));
    const expected = `Basic ${Buffer.from('user:pa ss').toString('base64')}`;
    assert.deepEqual(p.authorizations, [expected, expected]);
  });

  it('fails with WS_ERR_PROXY_REJECTED (status 407) and a message about credentials, then 1006', async () => {
    const s = await echoServer();
    const p = await proxy({ auth: 'user:secret' });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const missing = await failure(client(s.url, { proxy: p.url }));
    assert.equal(missing.error.code, 'WS_ERR_PROXY_REJECTED');
    assert.equal(missing.error.status, 407);
    assert.match(missing.error.message, /requires authentication .*proxy URL .*proxyAuth/);
    assert.equal(missing.code, 1006);
    const wrong = await failure(client(s.url, { proxy: p.url, proxyAuth: 'user:wrong' }));
    assert.equal(wrong.error.status, 407);
    assert.match(wrong.error.message, /refused the credentials/);
    assert.equal(connections, 0);
  });

  it('fails with WS_ERR_PROXY_REJECTED and the status when the proxy refuses the tunnel', async () => {
    const s = await echoServer();
    const p = await proxy({ refuse: 403 });
    let unexpected = 0;
    const ws = client(s.url, { proxy: p.url });
    ws.on('unexpected-response', () => unexpected++);
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_PROXY_REJECTED');
    assert.equal(error.status, 403);
    assert.match(error.message, /refused to open a tunnel to 127\.0\.0\.1:\d+: 403/);
    assert.equal(code, 1006);
    assert.equal(unexpected, 0, "the proxy's answer is not the server's: no 'unexpected-response'");
  });

  it('an unreachable proxy is an error (ECONNREFUSED), then 1006', async () => {
    const s = await echoServer();
    const p = await startProxy();
    await p.close();
    const { error, code } = await failure(client(s.url, { proxy: p.url }));
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(code, 1006);
  });

  it('tunnels wss:// through an http:// proxy (TLS with the server inside the tunnel)', async () => {
    const { port } = await secureEchoServer();
    const p = await proxy();
    await roundTrip(client(`wss://localhost:${port}/`, { proxy: p.url, ca: tls.cert }));
    assert.deepEqual(p.requests, [`localhost:${port}`]);
  });

  it('checks the server certificate through the tunnel', async () => {
    const { port } = await secureEchoServer();
    const p = await proxy();
    const { error, code } = await failure(client(`wss://localhost:${port}/`, { proxy: p.url }));
    assert.equal(error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(code, 1006);
  });

  it('tunnels wss:// through an https:// proxy (proxyTls for the proxy, ca for the server)', async () => {
    const { port } = await secureEchoServer();
    const p = await proxy({ tls });
    await roundTrip(
      client(`wss://127.0.0.1:${port}/`, { proxy: p.url, proxyTls: { ca: tls.cert }, ca: tls.cert }),
    );
    assert.deepEqual(p.requests, [`127.0.0.1:${port}`]);
  });

  it('handshakeTimeout covers a proxy that never answers CONNECT', async () => {
    const s = await echoServer();
    const p = await proxy({ silent: true });
    const { error, code } = await failure(client(s.url, { proxy: p.url, handshakeTimeout: 100 }));
    assert.equal((error as { code?: string }).code, 'WS_ERR_HANDSHAKE_TIMEOUT');
    assert.equal(error.message, 'Opening handshake has timed out');
    assert.match((error as { detail?: string }).detail ?? '', /opened no tunnel/);
    assert.equal(code, 1006);
  });

  it('the signal aborts the proxy step: WS_ERR_HANDSHAKE_ABORTED, 1006, the proxy connection closed', async () => {
    const s = await echoServer();
    const p = await proxy({ silent: true });
    const controller = new AbortController();
    const ws = client(s.url, { proxy: p.url, signal: controller.signal });
    const req = await p.nextRequest();
    const proxySide = next(req.socket, 'close');
    const result = failure(ws);
    controller.abort(new Error('user gave up'));
    const { error, code } = await result;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal((error.cause as Error).message, 'user gave up');
    assert.equal(code, 1006);
    await proxySide;
  });

  it('close() while the tunnel opens aborts it and closes the proxy connection', async () => {
    const s = await echoServer();
    const p = await proxy({ silent: true });
    const ws = client(s.url, { proxy: p.url });
    ws.on('error', () => {});
    const req = await p.nextRequest();
    const proxySide = next(req.socket, 'close');
    const closing = recordClose(ws);
    ws.close();
    assert.equal((await closing).code, 1006);
    await proxySide;
  });
});

describe('proxy option checks and redirects', () => {
  it('rejects a proxy or proxyAuth of the wrong type, naming the option', () => {
    assert.throws(() => client('ws://127.0.0.1:1/', { proxy: 42 as never }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /Option proxy must be/,
    });
    assert.throws(() => client('ws://127.0.0.1:1/', { proxy: 'http://p:1', proxyAuth: {} as never }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /Option proxyAuth/,
    });
  });

  it('a redirect is followed through the proxy too (one CONNECT per hop)', async () => {
    const s = await echoServer();
    const redirector = createHttpServer();
    redirector.on('upgrade', (_req, socket) => {
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${s.url}/final\r\nContent-Length: 0\r\n\r\n`);
    });
    redirector.listen(0, '127.0.0.1');
    await next(redirector, 'listening');
    defer(() => closeHttp(redirector));
    const p = await proxy();
    const ws = client(`ws://127.0.0.1:${portOf(redirector)}/start`, { proxy: p.url, followRedirects: true });
    await roundTrip(ws);
    assert.equal(ws.url, `${s.url}/final`);
    assert.deepEqual(p.requests, [`127.0.0.1:${portOf(redirector)}`, `127.0.0.1:${s.port}`]);
  });
});

describe("proxy: 'env'", () => {
  const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
  function setEnv(values: Record<string, string>): void {
    const saved = names.map((n) => [n, process.env[n]] as const);
    defer(() => {
      for (const [n, v] of saved) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    });
    for (const n of names) delete process.env[n];
    Object.assign(process.env, values);
  }
  // The server is reached as wskit-test.invalid (a loopback name would not use the proxy): the
  // proxy resolves it, and a direct connection resolves it with this lookup.
  const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;
  const hosts = { 'wskit-test.invalid': '127.0.0.1' };

  it('uses http_proxy for ws://', async () => {
    const s = await echoServer();
    const p = await proxy({ hosts });
    setEnv({ http_proxy: p.url });
    await roundTrip(client(`ws://wskit-test.invalid:${s.port}/`, { proxy: 'env', lookup }));
    assert.deepEqual(p.requests, [`wskit-test.invalid:${s.port}`]);
  });

  it('uses HTTPS_PROXY for wss://', async () => {
    const { port } = await secureEchoServer();
    const p = await proxy({ hosts });
    setEnv({ HTTPS_PROXY: p.url, http_proxy: 'http://127.0.0.1:1' });
    await roundTrip(client(`wss://wskit-test.invalid:${port}/`, { proxy: 'env', ca: tls.cert, lookup }));
    assert.deepEqual(p.requests, [`wskit-test.invalid:${port}`]);
  });

  it('goes direct for a host in NO_PROXY, and for loopback hosts', async () => {
    const s = await echoServer();
    const p = await proxy({ hosts });
    setEnv({ HTTP_PROXY: p.url, NO_PROXY: 'example.org,.invalid' });
    await roundTrip(client(`ws://wskit-test.invalid:${s.port}/`, { proxy: 'env', lookup }));
    await roundTrip(client(`${s.url}/`, { proxy: 'env' }));
    assert.deepEqual(p.requests, []);
  });

  it('is not read without proxy: env (the default is a direct connection, as in ws)', async () => {
    const s = await echoServer();
    const p = await proxy({ hosts });
    setEnv({ http_proxy: p.url });
    await roundTrip(client(`ws://wskit-test.invalid:${s.port}/`, { lookup }));
    assert.deepEqual(p.requests, []);
  });
});
