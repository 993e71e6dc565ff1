// The `proxy` option with `http2: true`: the client opens the CONNECT tunnel first and its HTTP/2
// session over it (h2c for ws://, TLS with ALPN h2 for wss://); 'env' as over HTTP/1.1 (NO_PROXY
// included). With `http2Session` (a session the caller connected) a proxy is refused at once.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, type WebSocketError, WebSocketServer } from '../../src/index.js';
import { startProxy } from '../net/connect-proxy.js';
import {
  certificate,
  closed,
  closeSession,
  defer,
  failure,
  next,
  portOf,
  runCleanups,
  session,
  urlOf,
} from './helpers.js';

afterEach(runCleanups);

/** A WebSocketServer on HTTP/2 only (h2c, or TLS with ALPN h2): it greets with the HTTP version. */
async function h2Server(tls: boolean): Promise<WebSocketServer> {
  const { cert, key } = certificate();
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    tls: tls ? { cert, key } : undefined,
    http2: true,
  });
  wss.on('connection', (ws, req) => {
    ws.send(`hello over HTTP/${(req as { httpVersion: string }).httpVersion}`);
    ws.on('message', (d) => ws.send(d));
  });
  await next(wss, 'listening');
  defer(() => new Promise((r) => wss.close(r)));
  return wss;
}

async function proxy(options: Parameters<typeof startProxy>[0] = {}) {
  const p = await startProxy(options);
  defer(() => p.close());
  return p;
}

async function greeting(ws: WebSocket): Promise<string> {
  const [data] = await next<[Buffer]>(ws, 'message');
  return data.toString();
}

/** Sets environment variables for one test (restored after it). */
function env(values: Record<string, string | undefined>): void {
  const saved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  defer(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];

/** A host name that only the test proxy (and the lookup below) resolves, to 127.0.0.1. */
const NAME = 'h2-server.wskit.invalid';
const lookupName = ((hostname: string, options: unknown, callback: unknown) => {
  const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
  const address = hostname === NAME || isIP(hostname) ? (isIP(hostname) ? hostname : '127.0.0.1') : null;
  if (address === null) cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
  else if (all) cb(null, [{ address, family: 4 }]);
  else cb(null, address, 4);
}) as LookupFunction;

describe('new WebSocket(url, { http2: true, proxy })', () => {
  it('ws:// (h2c): the session goes through the CONNECT tunnel, and the WebSocket is a stream of it', async () => {
    const wss = await h2Server(false);
    const p = await proxy();
    const ws = new WebSocket(urlOf(wss, 'ws'), { http2: true, proxy: p.url });
    assert.equal(await greeting(ws), 'hello over HTTP/2.0');
    ws.send('through');
    assert.equal(await greeting(ws), 'through');
    assert.deepEqual(p.requests, [`127.0.0.1:${portOf(wss)}`]);
    ws.close();
    await closed(ws);
  });

  it('wss://: TLS with the server over the tunnel, ALPN h2, the certificate checked as without a proxy', async () => {
    const wss = await h2Server(true);
    const p = await proxy({ auth: 'me:pw' });
    const { cert } = certificate();
    const ws = new WebSocket(urlOf(wss, 'wss'), {
      http2: true,
      proxy: p.url,
      proxyAuth: 'me:pw',
      ca: cert,
    });
    assert.equal(await greeting(ws), 'hello over HTTP/2.0');
    assert.deepEqual(p.requests, [`127.0.0.1:${portOf(wss)}`]);
    assert.equal(p.authorizations[0], `Basic ${Buffer.from('me:pw').toString('base64')}`);
    ws.close();
    await closed(ws);
    // Without the CA, the server's certificate is refused through the tunnel too.
    const untrusted = await failure(
      new WebSocket(urlOf(wss, 'wss'), { http2: true, proxy: p.url, proxyAuth: 'me:pw' }),
    );
    assert.equal(untrusted.code, 1006);
    assert.equal(untrusted.error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(p.requests.length, 2);
  });

  it('wss:// through the proxy to a server without HTTP/2 fails with WS_ERR_HTTP2_UNSUPPORTED, as directly', async () => {
    const { cert, key } = certificate();
    const server = createHttpsServer({ cert, key, ALPNProtocols: ['http/1.1'] });
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    defer(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const p = await proxy();
    const { error, code } = await failure(
      new WebSocket(urlOf(server, 'wss'), { http2: true, proxy: p.url, ca: cert }),
    );
    assert.equal(error.code, 'WS_ERR_HTTP2_UNSUPPORTED', error.message);
    assert.equal(code, 1006);
    assert.deepEqual(p.requests, [`127.0.0.1:${portOf(server)}`]);
  });

  it("a proxy's refusal fails the handshake with WS_ERR_PROXY_REJECTED, as over HTTP/1.1", async () => {
    const wss = await h2Server(false);
    const p = await proxy({ auth: 'me:pw' });
    const { error, code } = await failure(new WebSocket(urlOf(wss, 'ws'), { http2: true, proxy: p.url }));
    assert.equal(error.code, 'WS_ERR_PROXY_REJECTED');
    assert.equal(error.status, 407);
    assert.equal(code, 1006);
  });

  it("proxy: 'env' uses HTTP_PROXY for ws://, and NO_PROXY exempts the host", async () => {
    const wss = await h2Server(false);
    const p = await proxy({ hosts: { [NAME]: '127.0.0.1' } });
    for (const name of PROXY_VARS) env({ [name]: undefined });
    env({ HTTP_PROXY: p.url });
    const url = `ws://${NAME}:${portOf(wss)}/`;
    const ws = new WebSocket(url, { http2: true, proxy: 'env', lookup: lookupName });
    assert.equal(await greeting(ws), 'hello over HTTP/2.0');
    assert.deepEqual(p.requests, [`${NAME}:${portOf(wss)}`]);
    ws.close();
    await closed(ws);
    env({ NO_PROXY: NAME });
    const direct = new WebSocket(url, { http2: true, proxy: 'env', lookup: lookupName });
    assert.equal(await greeting(direct), 'hello over HTTP/2.0');
    assert.equal(p.requests.length, 1, 'NO_PROXY: a direct connection, the proxy saw nothing more');
    direct.close();
    await closed(direct);
  });

  it('handshakeTimeout and the signal cover the proxy step: the connection to the proxy is closed', async () => {
    const wss = await h2Server(false);
    const p = await proxy({ silent: true });
    const slow = await failure(
      new WebSocket(urlOf(wss, 'ws'), { http2: true, proxy: p.url, handshakeTimeout: 200 }),
    );
    assert.equal(slow.error.code, 'WS_ERR_HANDSHAKE_TIMEOUT');
    assert.equal(slow.error.message, 'Opening handshake has timed out');
    assert.match(slow.error.detail ?? '', /^after 200 ms \(the proxy 127\.0\.0\.1:\d+ opened no tunnel\)$/);
    const controller = new AbortController();
    const asked = p.nextRequest();
    const ws = new WebSocket(urlOf(wss, 'ws'), { http2: true, proxy: p.url, signal: controller.signal });
    const req = await asked;
    const proxySide = next(req.socket, 'close');
    const result = failure(ws);
    controller.abort();
    const { error, code } = await result;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal(code, 1006);
    await proxySide;
  });

  it('throws WS_ERR_INVALID_ARGUMENT for proxy with http2Session (a session the caller connected)', async () => {
    const wss = await h2Server(false);
    const s = await session(portOf(wss), false);
    defer(() => closeSession(s));
    for (const value of ['http://127.0.0.1:3128', 'env']) {
      assert.throws(
        () => new WebSocket(urlOf(wss, 'ws'), { http2Session: s, proxy: value }),
        (e: WebSocketError) =>
          e.code === 'WS_ERR_INVALID_ARGUMENT' &&
          /http2Session/.test(e.message) &&
          /createConnection/.test(e.message),
      );
    }
    // proxy: false is no proxy: allowed.
    const ws = new WebSocket(urlOf(wss, 'ws'), { http2Session: s, proxy: false });
    assert.equal(await greeting(ws), 'hello over HTTP/2.0');
    ws.close();
    await closed(ws);
  });

  it('a proxy URL that is not http(s) throws WS_ERR_INVALID_ARGUMENT, as over HTTP/1.1', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { http2: true, proxy: 'socks5://127.0.0.1:1' }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});
