// Servers wskit creates from `port` with `tls` (wss:// over HTTPS) and `http2` (one port for HTTP/2
// and HTTP/1.1 through ALPN, or cleartext h2c): no hand-made https or http2 server needed.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { afterEach, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket, type WebSocketError, WebSocketServer } from '../../src/index.js';
import type { Http2UpgradeRequest } from '../../src/node/http2/stream-request.js';
import {
  certificate,
  closed,
  closeSession,
  defer,
  extendedConnect,
  next,
  portOf,
  runCleanups,
  session,
  urlOf,
  within,
} from './helpers.js';

afterEach(runCleanups);

async function ownServer(options: { tls?: boolean; http2?: boolean }): Promise<WebSocketServer> {
  const { cert, key } = certificate();
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    tls: options.tls ? { cert, key } : undefined,
    http2: options.http2,
  });
  wss.on('connection', (ws, req) => {
    ws.send(`hello over HTTP/${(req as { httpVersion: string }).httpVersion}`);
    ws.on('message', (d) => ws.send(d));
  });
  await next(wss, 'listening');
  defer(() => new Promise((r) => wss.close(r)));
  return wss;
}

function greeting(ws: WebSocket): Promise<string> {
  return next<[Buffer]>(ws, 'message').then(([d]) => d.toString());
}

describe('WebSocketServer({ port, tls, http2 })', () => {
  it('tls: serves wss:// over HTTPS, and answers 426 to plain requests', async () => {
    const wss = await ownServer({ tls: true });
    const { cert } = certificate();
    const ws = new WebSocket(urlOf(wss, 'wss'), { ca: cert });
    assert.equal(await greeting(ws), 'hello over HTTP/1.1');
    ws.close();
    await closed(ws);
    const status = await within(
      new Promise<number | undefined>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: portOf(wss), path: '/', ca: cert }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      }),
      'the plain HTTPS response',
    );
    assert.equal(status, 426);
  });

  it('tls + http2: one port serves HTTP/2 (ALPN h2) and HTTP/1.1 WebSockets', async () => {
    const wss = await ownServer({ tls: true, http2: true });
    const { cert } = certificate();
    const over2 = new WebSocket(urlOf(wss, 'wss'), { ca: cert, http2: true });
    const over1 = new WebSocket(urlOf(wss, 'wss'), { ca: cert });
    assert.deepEqual(await Promise.all([greeting(over2), greeting(over1)]), [
      'hello over HTTP/2.0',
      'hello over HTTP/1.1',
    ]);
    for (const ws of [over1, over2]) {
      ws.send('again');
      assert.equal(await greeting(ws), 'again');
    }
    // The ALPN choices the server offers.
    const alpn = await within(
      new Promise<string | false>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: portOf(wss), ca: cert, ALPNProtocols: ['h2', 'http/1.1'] },
          () => {
            resolve(socket.alpnProtocol ?? false);
            socket.destroy();
          },
        );
        socket.on('error', reject);
      }),
      'the TLS handshake',
    );
    assert.equal(alpn, 'h2');
    const closing = Promise.all([closed(over1), closed(over2)]);
    await within(new Promise((r) => wss.close(r)), 'server.close() with an HTTP/2 session open');
    assert.deepEqual(
      (await closing).map((c) => c.code),
      [1001, 1001],
    );
  });

  it('http2 without tls: cleartext HTTP/2 (h2c), plain streams get 400', async () => {
    const wss = await ownServer({ http2: true });
    const arrived = next<[WebSocket, Http2UpgradeRequest]>(wss, 'connection');
    const ws = new WebSocket(urlOf(wss, 'ws'), { http2: true });
    assert.equal(await greeting(ws), 'hello over HTTP/2.0');
    const [, req] = await arrived;
    assert.equal(req.scheme, 'http');
    const s = await session(portOf(wss), false);
    defer(() => closeSession(s));
    const plain = s.request({ ':path': '/' });
    plain.on('error', () => {});
    const [response] = await next<[Record<string, unknown>]>(plain, 'response');
    assert.equal(response[':status'], 400);
    const ok = await extendedConnect(s);
    assert.equal(ok.response[':status'], 200);
    ws.close();
    await closed(ws);
  });

  for (const secure of [false, true]) {
    it(`drops an HTTP/2 session that opens no stream within handshakeTimeout, not one that did (${secure ? 'TLS' : 'h2c'})`, async () => {
      const { cert, key } = certificate();
      const wss = new WebSocketServer({
        port: 0,
        host: '127.0.0.1',
        http2: true,
        tls: secure ? { cert, key } : undefined,
        handshakeTimeout: 100,
      });
      await next(wss, 'listening');
      defer(() => new Promise((r) => wss.close(r)));
      // The WebSocket's session starts first: had its clock not stopped (or had its TLS socket been
      // timed as an HTTP/1.1 one, waiting for a request head), it would be dropped first.
      const ws = new WebSocket(urlOf(wss, secure ? 'wss' : 'ws'), { http2: true, ca: cert });
      await next(ws, 'open');
      const silent = await session(portOf(wss), secure);
      defer(() => closeSession(silent));
      await within(new Promise((r) => silent.once('close', r)), 'the silent session to be dropped');
      const pinged = await within(
        new Promise<number>((resolve) => {
          ws.once('pong', () => resolve(ws.readyState));
          ws.ping();
        }),
        'a pong after the limit',
      );
      assert.equal(pinged, WebSocket.OPEN);
      ws.close();
      await closed(ws);
    });
  }

  it('checks the options: tls must be an object, tls and http2 need port', () => {
    assert.throws(
      () => new WebSocketServer({ port: 0, tls: 'cert.pem' as never }),
      (e: WebSocketError) => e.code === 'WS_ERR_INVALID_ARGUMENT' && /tls/.test(e.message),
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, http2: true }),
      (e: WebSocketError) => e.code === 'WS_ERR_INVALID_ARGUMENT' && /port/.test(e.message),
    );
  });
});
