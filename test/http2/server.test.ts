// The server side of WebSockets over HTTP/2 (RFC 8441): extended CONNECT on a node:http2 server
// (given as `server`, or created from `port` with `http2`), the handshake's checks and refusals, many
// WebSockets and plain requests on one session, and the same limits and events as over HTTP/1.1.
import assert from 'node:assert/strict';
import { createSecureServer, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from '../../src/index.js';
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

async function h2cServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{
  wss: WebSocketServer;
  server: Http2Server;
}> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  const wss = new WebSocketServer({ ...options, server });
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  defer(async () => {
    await new Promise((r) => wss.close(r));
    await new Promise((r) => server.close(r));
  });
  return { wss, server };
}

describe('WebSocketServer on an HTTP/2 server (RFC 8441)', () => {
  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and accepts an extended CONNECT with :status 200', async () => {
    const { server } = await h2cServer();
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    assert.equal(s.remoteSettings.enableConnectProtocol, true);
    const { stream, response } = await extendedConnect(s);
    assert.equal(response[':status'], 200);
    assert.equal(response['sec-websocket-accept'], undefined, 'no Sec-WebSocket-Accept over HTTP/2');
    // A masked text frame "hi", echoed unmasked.
    stream.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]));
    const [echo] = await next<[Buffer]>(stream, 'data');
    assert.deepEqual([...echo], [0x81, 0x02, 0x68, 0x69]);
    stream.destroy();
  });

  it("wskit's client over h2c: messages both ways, the connection event's request, a clean close that ends the stream", async () => {
    const { wss, server } = await h2cServer({ perMessageDeflate: true });
    const arrived = next<[WebSocket, Http2UpgradeRequest]>(wss, 'connection');
    const ws = new WebSocket(urlOf(server, 'ws', '/chat?room=1'), ['chat'], { http2: true });
    await next(ws, 'open');
    const [serverWs, req] = await arrived;
    assert.equal(req.httpVersion, '2.0');
    assert.equal(req.method, 'CONNECT');
    assert.equal(req.url, '/chat?room=1');
    assert.equal(req.headers[':protocol'], 'websocket');
    assert.equal(req.headers.host, `127.0.0.1:${portOf(server)}`);
    assert.equal(typeof req.socket.remotePort, 'number');
    assert.equal(req.stream.id, 1);
    assert.equal(ws.protocol, 'chat');
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.equal(serverWs.extensions, 'permessage-deflate');
    const big = 'x'.repeat(100_000);
    ws.send(big);
    const [data] = await next<[Buffer]>(ws, 'message');
    assert.equal(data.toString(), big);
    const serverClosed = closed(serverWs);
    ws.close(1000, 'bye');
    assert.deepEqual(await closed(ws), { code: 1000, reason: 'bye' });
    assert.deepEqual(await serverClosed, { code: 1000, reason: 'bye' });
  });

  it('carries many WebSockets and plain requests on one session', async () => {
    const server = createServer();
    server.on('request', (req, res) => res.end(`plain ${req.url}`));
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo ${d}`)));
    defer(async () => {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const sockets = Array.from({ length: 5 }, () => new WebSocket(urlOf(server, 'ws'), { http2Session: s }));
    await Promise.all(sockets.map((ws) => next(ws, 'open')));
    const plain = s.request({ ':path': '/page' });
    const body = within(
      new Promise<string>((resolve) => {
        let text = '';
        plain.on('data', (c) => {
          text += c;
        });
        plain.on('end', () => resolve(text));
      }),
      'the plain response',
    );
    const replies = sockets.map((ws, i) => {
      ws.send(`m${i}`);
      return next<[Buffer]>(ws, 'message').then(([d]) => d.toString());
    });
    assert.deepEqual(await Promise.all(replies), ['echo m0', 'echo m1', 'echo m2', 'echo m3', 'echo m4']);
    assert.equal(await body, 'plain /page');
    assert.equal(wss.clients.size, 5);
    for (const ws of sockets) ws.close();
    await Promise.all(sockets.map((ws) => closed(ws)));
    assert.equal(s.closed, false, "the caller's session stays open");
  });

  it('refuses a bad version with 400 and Sec-WebSocket-Version: 13, a wrong path with 400, and verifyClient with its code', async () => {
    const { server } = await h2cServer({
      path: '/ws',
      verifyClient: ({ req }: { req: { headers: Record<string, unknown> } }) =>
        req.headers.authorization === 'ok',
    });
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const version = await extendedConnect(s, {
      ':path': '/ws',
      'sec-websocket-version': '8',
      authorization: 'ok',
    });
    assert.equal(version.response[':status'], 400);
    assert.equal(version.response['sec-websocket-version'], '13');
    assert.match(await version.body(), /use 13/);
    const path = await extendedConnect(s, { ':path': '/other', authorization: 'ok' });
    assert.equal(path.response[':status'], 400);
    const denied = await extendedConnect(s, { ':path': '/ws' });
    assert.equal(denied.response[':status'], 401);
    const ok = await extendedConnect(s, { ':path': '/ws', authorization: 'ok' });
    assert.equal(ok.response[':status'], 200);
    ok.stream.destroy();
    assert.equal(s.closed, false, 'a refused stream leaves the session open');
  });

  it('answers an asynchronous verifyClient that never calls back with 408 after handshakeTimeout', async () => {
    const { server } = await h2cServer({ handshakeTimeout: 100, verifyClient: (_info, _cb) => {} });
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const { response } = await extendedConnect(s);
    assert.equal(response[':status'], 408);
  });

  it('answers 503 past maxConnections', async () => {
    const { server } = await h2cServer({ maxConnections: 1 });
    const first = new WebSocket(urlOf(server, 'ws'), { http2: true });
    await next(first, 'open');
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const { response } = await extendedConnect(s);
    assert.equal(response[':status'], 503);
    first.close();
    await closed(first);
  });

  it('closes with 1009 past maxPayload, as over HTTP/1.1', async () => {
    const { wss, server } = await h2cServer({ maxPayload: 10 });
    const arrived = next<[WebSocket]>(wss, 'connection');
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
    await next(ws, 'open');
    const [serverWs] = await arrived;
    serverWs.on('error', () => {});
    ws.send('x'.repeat(11));
    assert.equal((await closed(ws)).code, 1009);
  });

  it("leaves other streams to the application, and keeps Node's 405 for other CONNECTs", async () => {
    const server = createServer();
    server.on('request', (_req, res) => res.end('app'));
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    const wss = new WebSocketServer({ server });
    defer(async () => {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const plainConnect = s.request(
      { ':method': 'CONNECT', ':authority': 'example.com:443' },
      { endStream: false },
    );
    plainConnect.on('error', () => {});
    const [response] = await next<[Record<string, unknown>]>(plainConnect, 'response');
    assert.equal(response[':status'], 405);
  });

  it("emits 'headers' with the 200's lines; lines pushed become response headers", async () => {
    const { wss, server } = await h2cServer();
    wss.on('headers', (lines: string[]) => {
      assert.equal(lines[0], 'HTTP/2 200');
      lines.push('Set-Cookie: session=1');
    });
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
    const upgraded = next<[{ statusCode: number; headers: Record<string, string> }]>(ws, 'upgrade');
    const opened = next(ws, 'open');
    const [response] = await upgraded;
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.headers['set-cookie'], ['session=1']);
    await opened;
    ws.close();
    await closed(ws);
  });

  it('handleProtocols and an asynchronous verifyClient decide as over HTTP/1.1', async () => {
    const { server } = await h2cServer({
      handleProtocols: (offered: Set<string>) => (offered.has('b') ? 'b' : false),
      verifyClient: (info: { secure: boolean; origin?: string }, cb: (ok: boolean) => void) => {
        setImmediate(() => cb(info.secure === false && info.origin === 'https://app.example'));
      },
    });
    const ws = new WebSocket(urlOf(server, 'ws'), ['a', 'b'], { http2: true, origin: 'https://app.example' });
    await next(ws, 'open');
    assert.equal(ws.protocol, 'b');
    ws.close();
    await closed(ws);
    const refused = new WebSocket(urlOf(server, 'ws'), { http2: true, origin: 'https://evil.example' });
    const [error] = await next<[{ status: number }]>(refused, 'error');
    assert.equal(error.status, 401);
  });

  it('a reset stream is a 1006 for its WebSocket only; a protocol error ends the stream with 1002; the session goes on', async () => {
    const { wss, server } = await h2cServer();
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const serverSide: WebSocket[] = [];
    wss.on('connection', (ws) => {
      serverSide.push(ws);
      ws.on('error', () => {});
    });
    const [a, b, c] = [0, 1, 2].map(() => new WebSocket(urlOf(server, 'ws'), { http2Session: s }));
    await Promise.all([a, b, c].map((ws) => next(ws, 'open')));
    const aOnServer = closed(serverSide[0]);
    a.terminate(); // RST_STREAM
    assert.equal((await aOnServer).code, 1006);
    // b sends an unmasked frame by hand on its stream: the server fails it with 1002 and ends the stream.
    const bClosed = closed(b);
    b._socket?.write(Buffer.from([0x81, 0x01, 0x78]));
    assert.equal((await bClosed).code, 1002);
    c.send('still here');
    const [echo] = await next<[Buffer]>(c, 'message');
    assert.equal(echo.toString(), 'still here');
    assert.equal(s.destroyed, false);
    c.close();
    await closed(c);
  });

  it('handleStream() opens a WebSocket on a stream of a noServer server', async () => {
    const server = createServer({ settings: { enableConnectProtocol: true } });
    const wss = new WebSocketServer({ noServer: true });
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      if (headers[':method'] !== 'CONNECT') return;
      wss.handleStream(stream, headers, (ws) => {
        ws.on('message', (d) => ws.send(`noServer ${d}`));
      });
    });
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    defer(async () => {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true });
    await next(ws, 'open');
    ws.send('hi');
    const [d] = await next<[Buffer]>(ws, 'message');
    assert.equal(d.toString(), 'noServer hi');
    ws.close();
    await closed(ws);
  });

  it('close() sends 1001 to HTTP/2 WebSockets and finishes', async () => {
    const { cert, key } = certificate();
    const server = createSecureServer({ cert, key, allowHTTP1: true });
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    defer(() => new Promise((r) => server.close(r)));
    const wss = new WebSocketServer({ server });
    const ws = new WebSocket(urlOf(server, 'wss'), { http2: true, ca: cert });
    await next(ws, 'open');
    const done = new Promise((r) => wss.close(r));
    assert.equal((await closed(ws)).code, 1001);
    await within(done, 'server.close()');
  });
});
