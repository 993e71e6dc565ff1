// Servers listening on a unix socket (socketPath), with LeanSockets over pipe handles or with
// net.Sockets, and clients reaching them with ws+unix: URLs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import { LeanSocket } from '../../src/node/transport/lean-socket.js';
import { client, defer, next, recordClose, runCleanups, type WebSocket } from '../node/helpers.js';

afterEach(runCleanups);

function socketFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wskit-unix-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'ws.sock');
}

async function unixServer(options: { leanSockets?: boolean } = {}) {
  const socketPath = socketFile();
  const wss = new WebSocketServer({ socketPath, ...options });
  await next(wss, 'listening');
  defer(() => {
    for (const ws of wss.clients) ws.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  return { wss, socketPath };
}

async function echoes(ws: WebSocket, sizes: number[]): Promise<void> {
  await next(ws, 'open');
  for (const size of sizes) {
    const payload = Buffer.alloc(size, size % 251);
    ws.send(payload);
    const [data] = await next<[Buffer]>(ws, 'message');
    assert.equal(Buffer.compare(data, payload), 0, `${size} bytes`);
  }
}

for (const leanSockets of [true, false]) {
  describe(`socketPath (leanSockets: ${leanSockets})`, () => {
    it('listens on the socket; a ws+unix: client exchanges small and large messages', async () => {
      const { wss, socketPath } = await unixServer({ leanSockets });
      assert.equal(wss.address(), socketPath);
      const connection = next<[WebSocket, IncomingMessage]>(wss, 'connection');
      const ws = client(`ws+unix:${socketPath}:/chat/room?x=1`);
      const [serverSide, req] = await connection;
      assert.equal(req.url, '/chat/room?x=1');
      assert.equal(serverSide._socket instanceof LeanSocket, leanSockets, 'a LeanSocket on a pipe handle');
      assert.equal((serverSide._socket as { remoteAddress?: string }).remoteAddress, undefined);
      await echoes(ws, [5, 70_000, 4 * 1024 * 1024]);
      const closing = recordClose(ws);
      ws.close(1000, 'bye');
      assert.deepEqual(await closing, { code: 1000, reason: 'bye' });
    });

    it('a server-side pause() holds the peer back through the socket (backpressure on a pipe)', async () => {
      const { wss, socketPath } = await unixServer({ leanSockets });
      const connection = next<[WebSocket]>(wss, 'connection');
      const ws = client(`ws+unix:${socketPath}:/`);
      const [serverSide] = await connection;
      await next(ws, 'open');
      serverSide.removeAllListeners('message');
      serverSide.pause();
      const chunk = Buffer.alloc(256 * 1024);
      // Send until the client's own buffer holds data: the server reads nothing, the socket fills.
      let sent = 0;
      while (ws.bufferedAmount === 0 && sent < 256) {
        ws.send(chunk);
        sent++;
        if (ws.bufferedAmount === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(ws.bufferedAmount > 0, 'the client could not send everything: the server held it back');
      let received = 0;
      serverSide.on('message', () => received++);
      serverSide.resume();
      while (received < sent) await next(serverSide, 'message');
      assert.equal(received, sent);
    });

    it('removes the socket file when the server closes', async () => {
      const socketPath = socketFile();
      const wss = new WebSocketServer({ socketPath, leanSockets });
      await next(wss, 'listening');
      assert.equal(existsSync(socketPath), true);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      assert.equal(existsSync(socketPath), false);
    });
  });
}

describe('socketPath options', () => {
  it('rejects socketPath with port or host, and a path that is not a string', () => {
    assert.throws(() => new WebSocketServer({ socketPath: '/tmp/x.sock', port: 0 }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /socketPath excludes port and host/,
    });
    assert.throws(() => new WebSocketServer({ socketPath: '/tmp/x.sock', host: '127.0.0.1' }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
    assert.throws(() => new WebSocketServer({ socketPath: '' }), { message: /socketPath must be/ });
    assert.throws(() => new WebSocketServer({ socketPath: 3 as never }), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new WebSocketServer({ socketPath: '/tmp/x.sock', noServer: true }), {
      message: 'One and only one of the "port", "server", or "noServer" options must be specified',
      detail: /exactly one of the "port" \(or "socketPath"\)/,
    });
  });

  it("reports a socket path in use as the server's 'error' (EADDRINUSE)", async () => {
    const { socketPath } = await unixServer();
    const second = new WebSocketServer({ socketPath });
    const [error] = await next<[NodeJS.ErrnoException]>(second, 'error');
    assert.equal(error.code, 'EADDRINUSE');
  });
});

describe('ws+unix: clients', () => {
  it('a redirect on the same socket keeps Authorization; one to a TCP host drops it', async () => {
    const socketPath = socketFile();
    const target = createHttpServer();
    const wss = new WebSocketServer({ noServer: true });
    const seen: IncomingMessage[] = [];
    let tcpUrl = '';
    // /final opens; /same redirects to /final on this socket, /away to a TCP server.
    target.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/final') {
        wss.handleUpgrade(req, socket, head, () => seen.push(req));
        return;
      }
      const location = req.url === '/same' ? `ws+unix:${socketPath}:/final` : tcpUrl;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
    });
    target.listen(socketPath);
    await next(target, 'listening');
    const tcp = createHttpServer();
    const tcpWss = new WebSocketServer({ server: tcp });
    tcpWss.on('connection', (_ws: WebSocket, req: IncomingMessage) => seen.push(req));
    tcp.listen(0, '127.0.0.1');
    await next(tcp, 'listening');
    tcpUrl = `ws://127.0.0.1:${(tcp.address() as { port: number }).port}/tcp`;
    defer(() => {
      for (const ws of wss.clients) ws.terminate();
      return new Promise<void>((resolve) => wss.close(() => target.close(() => resolve())));
    });
    defer(() => {
      for (const ws of tcpWss.clients) ws.terminate();
      return new Promise<void>((resolve) => tcpWss.close(() => tcp.close(() => resolve())));
    });
    const headers = { Authorization: 'Bearer secret' };
    const same = client(`ws+unix:${socketPath}:/same`, { followRedirects: true, headers });
    await next(same, 'open');
    assert.equal(same.url, `ws+unix:${socketPath}:/final`);
    const away = client(`ws+unix:${socketPath}:/away`, { followRedirects: true, headers });
    await next(away, 'open');
    assert.deepEqual(
      seen.map((r) => [r.url, r.headers.authorization]),
      [
        ['/final', 'Bearer secret'],
        ['/tcp', undefined],
      ],
    );
  });
});
