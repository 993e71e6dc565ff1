// WebSocketServer used the way ws's README uses it: echo, broadcast, an external HTTP server, several
// servers sharing one HTTP server (noServer + handleUpgrade), verifyClient, handleProtocols, path,
// clientTracking, the 'headers' and 'wsClientError' events, and wskit's maxConnections and close().
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import {
  client,
  closeHttp,
  connected,
  defer,
  httpServer,
  maskedFrame,
  next,
  rawConnect,
  readAll,
  recordClose,
  refusal,
  runCleanups,
  serve,
  upgradeRequest,
  WebSocket,
  WebSocketServer,
  within,
} from './helpers.js';

afterEach(runCleanups);

describe('the README examples', () => {
  it('echo server: text and binary come back as they were sent', async () => {
    const s = await serve();
    s.wss.on('connection', (ws: WebSocket) => {
      ws.on('error', () => {});
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
      ws.send('something');
    });
    const ws = client(s.url);
    const greeting = next<[Buffer, boolean]>(ws, 'message');
    await next(ws, 'open');
    const [hello, helloBinary] = await greeting;
    assert.equal(hello.toString(), 'something');
    assert.equal(helloBinary, false);

    let reply = next<[Buffer, boolean]>(ws, 'message');
    ws.send('ping ✓');
    let [data, isBinary] = await reply;
    assert.equal(data.toString(), 'ping ✓');
    assert.equal(isBinary, false);

    reply = next<[Buffer, boolean]>(ws, 'message');
    ws.send(new Float32Array([1.5, -2]));
    [data, isBinary] = await reply;
    assert.equal(isBinary, true);
    assert.deepEqual([...new Float32Array(new Uint8Array(data).buffer)], [1.5, -2]);
  });

  it('broadcast to every other client through server.clients', async () => {
    const s = await serve();
    s.wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        for (const other of s.wss.clients) {
          if (other !== ws && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary });
        }
      });
    });
    const a = await connected(s);
    const b = await connected(s);
    const c = await connected(s);
    assert.equal(s.wss.clients.size, 3);
    assert.ok(s.wss.clients.has(a.peer) && s.wss.clients.has(b.peer) && s.wss.clients.has(c.peer));

    let senderGot = 0;
    a.ws.on('message', () => senderGot++);
    const atB = next<[Buffer]>(b.ws, 'message');
    const atC = next<[Buffer]>(c.ws, 'message');
    a.ws.send('to all');
    assert.equal((await atB)[0].toString(), 'to all');
    assert.equal((await atC)[0].toString(), 'to all');

    // A round trip from the sender proves the broadcast did not come back to it.
    const gone = recordClose(c.peer);
    c.ws.close();
    await gone;
    assert.equal(s.wss.clients.size, 2, 'a closed client leaves server.clients');
    const atA = next<[Buffer]>(a.ws, 'message');
    b.ws.send('from b');
    assert.equal((await atA)[0].toString(), 'from b');
    assert.equal(senderGot, 1, 'the sender got only the message from b');
  });

  it('an external HTTP server (server option): HTTP requests still work, upgrades become connections', async () => {
    const { server, port } = await httpServer((_req, res) => res.end('plain http'));
    defer(() => closeHttp(server));
    const wss = new WebSocketServer({ server });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    assert.deepEqual(wss.address(), server.address());

    const connection = next<[WebSocket, IncomingMessage]>(wss, 'connection');
    const ws = client(`ws://127.0.0.1:${port}/chat?room=1`);
    await next(ws, 'open');
    const [peer, req] = await connection;
    assert.equal(req.url, '/chat?room=1');
    assert.equal(req.socket.remoteAddress, '127.0.0.1');
    assert.equal(peer.readyState, WebSocket.OPEN);

    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'plain http');

    // Closing the WebSocket server leaves the HTTP server to its owner, and stops handling upgrades.
    const peerClosed = recordClose(peer);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.equal((await peerClosed).code, 1001);
    assert.equal(server.listening, true);
    const again = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await again.text(), 'plain http');
    assert.equal(server.listenerCount('upgrade'), 0);
  });

  it("an external HTTP server: the handshake clock stops at a plain request's head, so the application's slow responses are not cut off", async () => {
    const timeout = 100;
    let respond: (() => void) | null = null;
    const { server, port } = await httpServer((_req, res) => {
      // Answered only once a connection made after this one has been dropped by the clock (408).
      respond = () => res.end('slow but whole');
    });
    defer(() => closeHttp(server));
    const wss = new WebSocketServer({ server, handshakeTimeout: timeout });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    const slow = fetch(`http://127.0.0.1:${port}/`);
    while (respond === null) await new Promise((resolve) => setImmediate(resolve));
    const silent = await rawConnect(port);
    defer(() => silent.destroy());
    const dropped = await readAll(silent);
    assert.match(dropped.toString('latin1'), /^HTTP\/1\.1 408 /);
    (respond as () => void)();
    assert.equal(await (await slow).text(), 'slow but whole');
  });

  it('several servers on one HTTP server by path (noServer + handleUpgrade)', async () => {
    const wss1 = new WebSocketServer({ noServer: true });
    const wss2 = new WebSocketServer({ noServer: true });
    defer(() => new Promise((resolve) => wss1.close(resolve)));
    defer(() => new Promise((resolve) => wss2.close(resolve)));
    assert.throws(() => wss1.address(), { code: 'WS_ERR_INVALID_STATE' });
    wss1.on('connection', (ws: WebSocket) => ws.send('one'));
    wss2.on('connection', (ws: WebSocket) => ws.send('two'));
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const { pathname } = new URL(request.url ?? '/', 'ws://base.url');
      if (pathname === '/foo') {
        wss1.handleUpgrade(request, socket, head, (ws) => wss1.emit('connection', ws, request));
      } else if (pathname === '/bar') {
        wss2.handleUpgrade(request, socket, head, (ws) => wss2.emit('connection', ws, request));
      } else {
        socket.destroy();
      }
    });
    for (const [path, expected] of [
      ['/foo', 'one'],
      ['/bar', 'two'],
    ]) {
      const ws = client(`ws://127.0.0.1:${port}${path}`);
      const [data] = await next<[Buffer]>(ws, 'message');
      assert.equal(data.toString(), expected);
    }
    assert.equal(wss1.clients.size, 1);
    assert.equal(wss2.clients.size, 1);

    const stray = client(`ws://127.0.0.1:${port}/baz`);
    const error = next<[Error]>(stray, 'error');
    const closed = recordClose(stray);
    await error;
    assert.equal((await closed).code, 1006);
  });

  it('handleUpgrade() twice with the same socket throws', async () => {
    const wss = new WebSocketServer({ noServer: true });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    const thrown = new Promise<unknown>((resolve) => {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(req, socket, head, () => {
          try {
            wss.handleUpgrade(req, socket, head, () => {});
            resolve(null);
          } catch (err) {
            resolve(err);
          }
        });
      });
    });
    client(`ws://127.0.0.1:${port}`);
    const err = await within(thrown, 'the second handleUpgrade()');
    assert.equal((err as { code?: string }).code, 'WS_ERR_INVALID_STATE');
  });
});

describe('verifyClient', () => {
  it('synchronous: info has origin, secure and req; false refuses with 401', async () => {
    const seen: { origin: string | undefined; secure: boolean; url: string | undefined }[] = [];
    const s = await serve({
      verifyClient: (info: { origin: string | undefined; secure: boolean; req: IncomingMessage }) => {
        seen.push({ origin: info.origin, secure: info.secure, url: info.req.url });
        return info.origin === 'https://good.example';
      },
    });
    const good = await connected(s, '/ok', { origin: 'https://good.example' });
    assert.equal(good.ws.readyState, WebSocket.OPEN);

    let connections = 0;
    s.wss.on('connection', () => connections++);
    const bad = client(`${s.url}/no`, { origin: 'https://evil.example' });
    const { status } = await refusal(bad);
    assert.equal(status, 401);
    assert.equal(connections, 0);
    assert.deepEqual(seen, [
      { origin: 'https://good.example', secure: false, url: '/ok' },
      { origin: 'https://evil.example', secure: false, url: '/no' },
    ]);
  });

  it('asynchronous: refuses with the given code, message and headers, or accepts later', async () => {
    const s = await serve({
      verifyClient: (info: { req: IncomingMessage }, cb: (...args: never[]) => void) => {
        const ok = info.req.headers.authorization === 'Bearer secret';
        setImmediate(() => {
          const done = cb as (v: boolean, c?: number, m?: string, h?: Record<string, string>) => void;
          if (ok) done(true);
          else done(false, 403, 'Go away', { 'X-Reason': 'bad token' });
        });
      },
    });
    const bad = client(s.url, { headers: { Authorization: 'Bearer wrong' } });
    const refused = await refusal(bad);
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'Go away');
    assert.equal(refused.headers['x-reason'], 'bad token');

    const good = await connected(s, '', { headers: { Authorization: 'Bearer secret' } });
    assert.equal(good.req.headers.authorization, 'Bearer secret');
  });

  it('asynchronous refusal without a code is 401; without an unexpected-response listener the client errors', async () => {
    const s = await serve({
      verifyClient: (_info: unknown, cb: (...args: never[]) => void) => (cb as (v: boolean) => void)(false),
    });
    const ws = client(s.url);
    const error = next<[Error & { code?: string; status?: number }]>(ws, 'error');
    const closed = recordClose(ws);
    const [err] = await error;
    assert.equal(err.message, 'Unexpected server response: 401');
    assert.equal((await closed).code, 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});

describe('subprotocols', () => {
  it('the first offered is chosen by default', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s, '', undefined);
    assert.equal(ws.protocol, '');
    ws.terminate();
    const c = client(s.url, ['chat.v1', 'chat.v2']);
    const [server] = await next<[WebSocket]>(s.wss, 'connection');
    await next(c, 'open');
    assert.equal(c.protocol, 'chat.v1');
    assert.equal(server.protocol, 'chat.v1');
    assert.equal(peer.protocol, '');
  });

  it('handleProtocols runs after verifyClient, which can leave information on req for it', async () => {
    const calls: string[] = [];
    const s = await serve({
      verifyClient: (info: { req: IncomingMessage & { user?: string } }) => {
        calls.push('verifyClient');
        info.req.user = info.req.headers['x-user'] as string | undefined;
        return info.req.user !== 'mallory';
      },
      handleProtocols: (protocols: Set<string>, req: IncomingMessage & { user?: string }) => {
        calls.push('handleProtocols');
        return req.user === 'admin' && protocols.has('admin') ? 'admin' : 'user';
      },
    });
    const admin = client(s.url, ['user', 'admin'], { headers: { 'X-User': 'admin' } });
    await next(admin, 'open');
    assert.equal(admin.protocol, 'admin');
    const refused = client(s.url, ['user', 'admin'], { headers: { 'X-User': 'mallory' } });
    assert.equal((await refusal(refused)).status, 401);
    assert.deepEqual(calls, ['verifyClient', 'handleProtocols', 'verifyClient']);
  });

  it('handleProtocols chooses from the Set offered, or refuses all with false', async () => {
    const offered: string[][] = [];
    const s = await serve({
      handleProtocols: (protocols: Set<string>, req: IncomingMessage) => {
        offered.push([...protocols]);
        assert.equal(typeof req.headers['sec-websocket-key'], 'string');
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const ws = client(s.url, ['chat.v1', 'chat.v2']);
    await next(ws, 'open');
    const [peer] = await connection;
    assert.equal(ws.protocol, 'chat.v2');
    assert.equal(peer.protocol, 'chat.v2');

    // None chosen: the server opens without one; the client, which asked for one, fails (as ws's).
    const none = next<[WebSocket]>(s.wss, 'connection');
    const ws2 = client(s.url, 'chat.v1');
    const [error] = await next<[Error & { code?: string }]>(ws2, 'error');
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
    assert.match(error.message, /no subprotocol/);
    assert.equal((await none)[0].protocol, '');
    assert.deepEqual(offered, [['chat.v1', 'chat.v2'], ['chat.v1']]);
  });

  it('a subprotocol the client did not offer is not sent: 500, nothing injected into the response', async () => {
    const s = await serve({ handleProtocols: () => 'chat.v3\r\nSet-Cookie: a=b' });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const ws = client(s.url, ['chat.v1']);
    ws.on('error', () => {});
    const { status, headers, body } = await refusal(ws);
    assert.equal(status, 500);
    assert.equal(headers['set-cookie'], undefined);
    assert.match(body, /did not offer/);
    assert.equal(connections, 0);
  });
});

describe('server options and events', () => {
  it('path: only that path (query ignored) is accepted; others get 400', async () => {
    const s = await serve({ path: '/ws' });
    const ok = await connected(s, '/ws?token=1');
    assert.equal(ok.req.url, '/ws?token=1');
    const wrong = client(`${s.url}/other`);
    assert.equal((await refusal(wrong)).status, 400);
  });

  it('clientTracking: false keeps no clients (clients is undefined, as in ws); broadcast() still reaches every connection', async () => {
    const s = await serve({ clientTracking: false });
    const { ws, peer } = await connected(s);
    assert.equal(peer.readyState, WebSocket.OPEN);
    assert.equal(s.wss.clients, undefined);
    const received = next<[Buffer]>(ws, 'message');
    assert.equal(s.wss.broadcast('to all'), 1);
    assert.equal(String((await received)[0]), 'to all');
  });

  it("'headers' lets the application add a response header", async () => {
    const s = await serve();
    s.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      assert.equal(headers[0], 'HTTP/1.1 101 Switching Protocols');
      headers.push(`Set-Cookie: session=${req.url === '/me' ? 'abc' : 'x'}`);
    });
    const ws = client(`${s.url}/me`);
    const upgrade = next<[IncomingMessage]>(ws, 'upgrade');
    await next(ws, 'open');
    const [res] = await upgrade;
    assert.deepEqual(res.headers['set-cookie'], ['session=abc']);
  });

  it("'wsClientError' gets invalid requests with the socket, and then writes the response itself", async () => {
    const s = await serve();
    const reported = next<[Error & { code?: string }, Duplex, IncomingMessage]>(s.wss, 'wsClientError');
    const ws = client(s.url, { protocolVersion: 8, headers: { 'Sec-WebSocket-Key': 'not a key' } });
    const [err, socket, req] = await reported;
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_REQUEST');
    assert.match(err.message, /Sec-WebSocket-Key/);
    assert.equal(req.headers['sec-websocket-key'], 'not a key');
    socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.equal((await refusal(ws)).status, 418);
  });

  it("a request for another path gets 400 and is not a 'wsClientError' (as in ws)", async () => {
    const s = await serve({ path: '/ws' });
    let reported = 0;
    s.wss.on('wsClientError', () => reported++);
    const refused = await refusal(client(`${s.url}/elsewhere`));
    assert.equal(refused.status, 400);
    assert.equal(reported, 0);
    // A malformed request for the right path is still reported.
    const malformed = next<[Error]>(s.wss, 'wsClientError');
    const ws = client(`${s.url}/ws`, { protocolVersion: 8, headers: { 'Sec-WebSocket-Key': 'not a key' } });
    const [err, socket] = (await malformed) as unknown as [Error, Duplex];
    assert.match(err.message, /Sec-WebSocket-Key/);
    socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.equal((await refusal(ws)).status, 418);
    assert.equal(reported, 1);
  });

  it('maxConnections: one more upgrade gets 503', async () => {
    const s = await serve({ maxConnections: 2 });
    await connected(s);
    const second = await connected(s);
    const third = client(s.url);
    const refused = await refusal(third);
    assert.equal(refused.status, 503);
    // A slot freed is a slot usable again.
    const gone = recordClose(second.peer);
    second.ws.close();
    await gone;
    await connected(s);
  });

  it('close(cb): the port is freed, and a second close(cb) gets an error', async () => {
    const s = await serve();
    const port = s.port;
    await new Promise<void>((resolve) => s.wss.close(() => resolve()));
    const again = await new Promise<Error | undefined>((resolve) => s.wss.close(resolve));
    assert.equal((again as { code?: string }).code, 'WS_ERR_SERVER_CLOSED');
    // The port is free: another server can listen on it.
    const other = new WebSocketServer({ port, host: '127.0.0.1' });
    await next(other, 'listening');
    await new Promise((resolve) => other.close(resolve));
  });

  it('a new connection while the server closes is refused with 503', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const first = client(`ws://127.0.0.1:${port}`);
    const [peer] = await next<[WebSocket]>(wss, 'connection');
    await next(first, 'open');
    // The first client does not answer the Close yet: the server is still closing.
    first.pause();
    const closed = next(wss, 'close');
    wss.close();
    const late = client(`ws://127.0.0.1:${port}`);
    assert.equal((await refusal(late)).status, 503);
    first.resume();
    await closed;
    assert.equal(peer.readyState, WebSocket.CLOSED);
  });

  it("listening on a port in use emits 'error'", async () => {
    const s = await serve();
    const clash = new WebSocketServer({ port: s.port, host: '127.0.0.1' });
    const [err] = await next<[Error & { code?: string }]>(clash, 'error');
    assert.equal(err.code, 'EADDRINUSE');
    clash.close();
  });

  it('the WebSocket option: connections are instances of the given subclass', async () => {
    class Tagged extends WebSocket {
      tag = 'mine';
    }
    const s = await serve({ WebSocket: Tagged });
    const { peer } = await connected(s);
    assert.ok(peer instanceof Tagged);
    assert.equal((peer as Tagged).tag, 'mine');
  });

  it('a frame sent in the same packet as the request is read (the head of the upgrade)', async () => {
    const s = await serve();
    // Listen from the 'connection' event on, as applications do: the head is read right after it.
    const message = new Promise<[Buffer, boolean]>((resolve) => {
      s.wss.on('connection', (peer: WebSocket) =>
        peer.on('message', (d: Buffer, b: boolean) => resolve([d, b])),
      );
    });
    const socket = await rawConnect(s.port);
    defer(() => socket.destroy());
    socket.write(Buffer.concat([Buffer.from(upgradeRequest()), maskedFrame(0x1, 'early bird')]));
    const [data, isBinary] = await within(message, 'the early message');
    assert.equal(data.toString(), 'early bird');
    assert.equal(isBinary, false);
  });

  it('listens on a Unix socket through an external server, reached with a ws+unix: URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wskit-unix-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ws.sock');
    const server = createServer();
    server.listen(path);
    await next(server, 'listening');
    defer(() => closeHttp(server));
    const wss = new WebSocketServer({ server });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    const connection = next<[WebSocket, IncomingMessage]>(wss, 'connection');
    const ws = client(`ws+unix:${path}:/over/unix?x=1`);
    await next(ws, 'open');
    const [, req] = await connection;
    assert.equal(req.url, '/over/unix?x=1');
  });

  it('the constructor callback is called once listening', async () => {
    const listening = new Promise<WebSocketServer>((resolve) => {
      const wss: WebSocketServer = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => resolve(wss));
    });
    const wss = await within(listening, 'the callback');
    defer(() => new Promise((resolve) => wss.close(resolve)));
    assert.equal(typeof (wss.address() as { port: number }).port, 'number');
  });

  it('shouldHandle() can be overridden to route requests', async () => {
    class Routed extends WebSocketServer {
      override shouldHandle(req: IncomingMessage): boolean {
        return (req.url ?? '').includes('token=ok');
      }
    }
    const wss = new Routed({ port: 0, host: '127.0.0.1' });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    await next(wss, 'listening');
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const ok = client(`${url}/?token=ok`);
    await next(ok, 'open');
    assert.equal((await refusal(client(`${url}/?token=no`))).status, 400);
  });

  it('exactly one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});
