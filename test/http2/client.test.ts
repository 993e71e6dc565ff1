// The client side of WebSockets over HTTP/2 (RFC 8441): `http2: true` (a session of its own, h2c for
// ws://, ALPN h2 for wss://) and `http2Session` (a caller's session), and how it fails, clearly, when
// the server cannot take a WebSocket over HTTP/2.
import assert from 'node:assert/strict';
import { createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, type WebSocketError, WebSocketServer } from '../../src/index.js';
import {
  certificate,
  closed,
  closeSession,
  defer,
  failure,
  next,
  portOf,
  recordClose,
  runCleanups,
  session,
  urlOf,
  within,
} from './helpers.js';

afterEach(runCleanups);

async function rawH2(onStream?: (stream: ServerHttp2Stream) => void, connectProtocol = true) {
  const server = createServer({ settings: { enableConnectProtocol: connectProtocol } });
  const sessions = new Set<Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    onStream?.(stream);
  });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  defer(() => {
    for (const s of sessions) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { server, sessions };
}

describe('new WebSocket(url, { http2 })', () => {
  it('fails with WS_ERR_HTTP2_UNSUPPORTED when the server sends no SETTINGS_ENABLE_CONNECT_PROTOCOL', async () => {
    const { server } = await rawH2(undefined, false);
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_HTTP2_UNSUPPORTED');
    assert.match(error.message, /without the http2 option/);
    assert.equal(code, 1006);
  });

  it('fails the same way on a given session that had its SETTINGS long ago (found out with a PING)', async () => {
    const { server } = await rawH2(undefined, false);
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const ws = new WebSocket(urlOf(server, 'ws'), { http2Session: s });
    const { error } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_HTTP2_UNSUPPORTED');
    assert.equal(s.destroyed, false, "the caller's session is left open");
  });

  it('fails with WS_ERR_HTTP2_UNSUPPORTED against a wss:// server that speaks HTTP/1.1 only', async () => {
    const { cert, key } = certificate();
    const server = createHttpsServer({ cert, key });
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    defer(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const ws = new WebSocket(urlOf(server, 'wss'), { http2: true, ca: cert });
    const { error } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_HTTP2_UNSUPPORTED', error.message);
  });

  it('reports a refusal with its status (WS_ERR_HANDSHAKE_REJECTED) and a reset stream as such', async () => {
    const { server } = await rawH2((stream) => {
      if (stream.id === 1) stream.respond({ ':status': 403 }, { endStream: true });
      else stream.close(0x8); // RST_STREAM CANCEL
    });
    const refused = await failure(new WebSocket(urlOf(server, 'ws'), { http2: true }));
    assert.equal(refused.error.code, 'WS_ERR_HANDSHAKE_REJECTED');
    assert.equal(refused.error.status, 403);
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    s.request({ ':path': '/' })
      .on('error', () => {})
      .end(); // stream 1 on this session
    const reset = await failure(new WebSocket(urlOf(server, 'ws'), { http2Session: s }));
    assert.equal(reset.error.code, 'WS_ERR_HANDSHAKE_REJECTED');
    assert.match(reset.error.message, /RST_STREAM code 8/);
  });

  it('checks the answer: a subprotocol never offered fails the handshake', async () => {
    const { server } = await rawH2((stream) =>
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'evil' }),
    );
    const { error } = await failure(new WebSocket(urlOf(server, 'ws'), ['chat'], { http2: true }));
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
  });

  it('times out after handshakeTimeout when the server never answers, and close() while connecting aborts', async () => {
    const { server } = await rawH2(() => {});
    const slow = await failure(new WebSocket(urlOf(server, 'ws'), { http2: true, handshakeTimeout: 100 }));
    assert.equal(slow.error.code, 'WS_ERR_HANDSHAKE_TIMEOUT');
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
    ws.on('error', () => {});
    ws.close();
    assert.equal((await recordClose(ws)).code, 1006);
  });

  it('handshakeTimeout: 0 is no deadline, as over HTTP/1.1', async () => {
    const { server } = await rawH2((stream) => stream.respond({ ':status': 200 }));
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true, handshakeTimeout: 0 });
    ws.on('error', () => {});
    await next(ws, 'open');
    ws.terminate();
  });

  it('sends the extended CONNECT of RFC 8441: path, authority, version 13, offers, no key', async () => {
    const seen: Record<string, unknown>[] = [];
    const { server } = await rawH2();
    server.on('stream', (stream, headers) => {
      seen.push({ ...headers });
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'two' });
    });
    const ws = new WebSocket(`${urlOf(server, 'ws', '/a/b?c=d')}`, ['one', 'two'], {
      http2: true,
      origin: 'https://example.com',
      headers: { 'X-Token': 't', Connection: 'keep-alive' },
    });
    ws.on('error', () => {});
    await within(new Promise((r) => ws.once('open', r)), "'open'");
    const [h] = seen;
    assert.equal(h[':method'], 'CONNECT');
    assert.equal(h[':protocol'], 'websocket');
    assert.equal(h[':path'], '/a/b?c=d');
    assert.equal(h[':scheme'], 'http');
    assert.equal(h[':authority'], `127.0.0.1:${portOf(server)}`);
    assert.equal(h['sec-websocket-version'], '13');
    assert.equal(h['sec-websocket-protocol'], 'one,two');
    assert.match(String(h['sec-websocket-extensions']), /^permessage-deflate/);
    assert.equal(h.origin, 'https://example.com');
    assert.equal(h['x-token'], 't');
    assert.equal(h['sec-websocket-key'], undefined);
    assert.equal(h.connection, undefined, 'connection-specific headers are not sent over HTTP/2');
    assert.equal(ws.protocol, 'two');
    ws.terminate();
  });

  it('fails, never hangs, when the session dies before the answer', async () => {
    const { server, sessions } = await rawH2(() => {});
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const ws = new WebSocket(urlOf(server, 'ws'), { http2Session: s });
    const failed = failure(ws);
    await within(
      new Promise<void>((resolve) => server.once('stream', () => resolve())),
      'the CONNECT to arrive',
    );
    for (const serverSession of sessions) serverSession.destroy();
    const { error } = await failed;
    assert.ok(['WS_ERR_HANDSHAKE_REJECTED', 'ERR_HTTP2_STREAM_ERROR'].includes(error.code), error.message);
  });

  it('throws WS_ERR_INVALID_ARGUMENT for an http2 or http2Session of the wrong type', () => {
    for (const options of [{ http2: 'yes' }, { http2Session: {} }, { http2Session: null }]) {
      assert.throws(
        () => new WebSocket('ws://127.0.0.1:1/', options as never),
        (e: WebSocketError) => e.code === 'WS_ERR_INVALID_ARGUMENT' && /http2/.test(e.message),
      );
    }
  });

  it('closes the session it opened when the WebSocket closes', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    const wss = new WebSocketServer({ server });
    defer(async () => {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });
    const [[serverSession]] = await Promise.all([
      next<[Http2Session]>(server, 'session'),
      (async () => {
        const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
        await next(ws, 'open');
        ws.close();
        await closed(ws);
      })(),
    ]);
    await next(serverSession, 'close');
  });
});
