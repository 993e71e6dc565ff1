// A server with legacy.hixie76, driven by a client written from draft-hixie-thewebsocketprotocol-76
// over raw sockets: the handshake (MD5 answer, Origin and Location), text echo, both closing
// handshakes, the limits, what the API refuses, and the refusal when the option is off.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { isHixie76, type WebSocket, WebSocketServer } from '../../src/index.js';
import { selfSignedCertificate } from '../node/certificate.js';
import {
  closeHttp,
  connected,
  defer,
  httpServer,
  next,
  portOf,
  recordClose,
  runCleanups,
  serve,
} from '../node/helpers.js';
import {
  headerOf,
  hixie76Connect,
  hixie76Read,
  hixie76Request,
  hixie76Text,
  rawConnection,
} from './draft-clients.js';

afterEach(runCleanups);

function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {});
  });
}

describe('hixie-76 (legacy.hixie76)', () => {
  it('handshake: 101 WebSocket Protocol Handshake, Origin and Location echoed, the MD5 answer', async () => {
    const s = await serve({ legacy: { hixie76: true } });
    const opened = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port, { path: '/demo?x=1', host: `127.0.0.1:${s.port}` });
    defer(() => c.socket.destroy());
    const lines = c.head.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 101 WebSocket Protocol Handshake');
    assert.equal(headerOf(c.head, 'Upgrade'), 'WebSocket');
    assert.equal(headerOf(c.head, 'Connection'), 'Upgrade');
    assert.equal(headerOf(c.head, 'Sec-WebSocket-Origin'), 'http://example.com');
    assert.equal(headerOf(c.head, 'Sec-WebSocket-Location'), `ws://127.0.0.1:${s.port}/demo?x=1`);
    assert.equal(headerOf(c.head, 'Sec-WebSocket-Protocol'), undefined);
    assert.deepEqual(c.answer, c.expected);
    const [ws, req] = await opened;
    assert.equal(isHixie76(ws), true);
    assert.equal(req.headers.origin, 'http://example.com');
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
  });

  it('over TLS: Sec-WebSocket-Location is wss:// (port with tls, and an https.Server), text echoed', async () => {
    const { cert, key } = selfSignedCertificate();
    const own = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      tls: { cert, key },
      legacy: { hixie76: true },
    });
    await next(own, 'listening');
    defer(() => new Promise((r) => own.close(r)));
    echo(own);
    const https = createHttpsServer({ cert, key });
    https.listen(0, '127.0.0.1');
    await next(https, 'listening');
    const attached = new WebSocketServer({ server: https, legacy: { hixie76: true } });
    echo(attached);
    defer(async () => {
      await new Promise((r) => attached.close(r));
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
    });
    for (const port of [portOf(own), portOf(https)]) {
      const c = await hixie76Connect(port, { path: '/secure?x=1', host: `127.0.0.1:${port}`, tlsCa: cert });
      defer(() => c.socket.destroy());
      assert.equal(c.head.split('\r\n')[0], 'HTTP/1.1 101 WebSocket Protocol Handshake');
      assert.equal(headerOf(c.head, 'Sec-WebSocket-Location'), `wss://127.0.0.1:${port}/secure?x=1`);
      assert.equal(headerOf(c.head, 'Sec-WebSocket-Origin'), 'http://example.com');
      assert.deepEqual(c.answer, c.expected);
      c.socket.write(hixie76Text('über TLS'));
      assert.equal(await hixie76Read(c.reader), 'über TLS');
    }
  });

  it('echoes text both ways, frames in one packet or split, UTF-8 intact', async () => {
    const s = await serve({ legacy: { hixie76: true } });
    echo(s.wss);
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    c.socket.write(Buffer.concat([hixie76Text('hello'), hixie76Text('wörld ✓')]));
    assert.equal(await hixie76Read(c.reader), 'hello');
    assert.equal(await hixie76Read(c.reader), 'wörld ✓');
    const frame = hixie76Text('split');
    c.socket.write(frame.subarray(0, 3));
    c.socket.write(frame.subarray(3));
    assert.equal(await hixie76Read(c.reader), 'split');
  });

  it("the client's closing frame is answered with 0xFF 0x00 and TCP closes; 'close' reports 1005", async () => {
    const s = await serve({ legacy: { hixie76: true } });
    const opened = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port);
    const [ws] = await opened;
    const close = recordClose(ws);
    c.socket.write(Buffer.from([0xff, 0x00]));
    assert.equal(await hixie76Read(c.reader), 'close');
    await c.reader.closed();
    assert.deepEqual(await close, { code: 1005, reason: '' });
  });

  it('close() from the server sends 0xFF 0x00; the client answers, and the connection ends cleanly', async () => {
    const s = await serve({ legacy: { hixie76: true } });
    const opened = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    const [ws] = await opened;
    const close = recordClose(ws);
    ws.close(1000, 'bye');
    assert.equal(await hixie76Read(c.reader), 'close');
    c.socket.end(Buffer.from([0xff, 0x00]));
    assert.equal((await close).code, 1005);
  });

  it('a subprotocol offered is passed to handleProtocols and echoed', async () => {
    let offered: string[] = [];
    const s = await serve({
      legacy: { hixie76: true },
      handleProtocols: (protocols) => {
        offered = [...protocols];
        return 'sample';
      },
    });
    const opened = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port, { protocol: 'sample' });
    defer(() => c.socket.destroy());
    assert.equal(headerOf(c.head, 'Sec-WebSocket-Protocol'), 'sample');
    assert.deepEqual(offered, ['sample']);
    assert.equal((await opened)[0].protocol, 'sample');
  });

  it('verifyClient sees the Origin, and a refusal is an HTTP error', async () => {
    const origins: (string | undefined)[] = [];
    const s = await serve({
      legacy: { hixie76: true },
      verifyClient: (info: { origin: string | undefined }) => {
        origins.push(info.origin);
        return info.origin === 'http://good.example';
      },
    });
    const bad = await hixie76Connect(s.port, { origin: 'http://evil.example' });
    assert.match(bad.head, /^HTTP\/1\.1 401 /);
    const good = await hixie76Connect(s.port, { origin: 'http://good.example' });
    defer(() => good.socket.destroy());
    assert.match(good.head, /^HTTP\/1\.1 101 /);
    assert.deepEqual(origins, ['http://evil.example', 'http://good.example']);
  });

  it('the path is checked as for RFC 6455 (400), and a bad key is refused (400)', async () => {
    const s = await serve({ legacy: { hixie76: true }, path: '/ws' });
    const wrongPath = await hixie76Connect(s.port, { path: '/other' });
    assert.match(wrongPath.head, /^HTTP\/1\.1 400 /);
    const { socket, reader } = await rawConnection(s.port);
    const request = hixie76Request({ path: '/ws' });
    socket.write(
      `${request.head.replace(/Sec-WebSocket-Key1: [^\r]*/, 'Sec-WebSocket-Key1: 12345')}12345678`,
    );
    assert.match(await reader.head(), /^HTTP\/1\.1 400 /);
  });

  it('binary, Blob, ping and pong throw WS_ERR_LEGACY_UNSUPPORTED; the connection carries on', async () => {
    const s = await serve({ legacy: { hixie76: true } });
    const opened = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    const [ws] = await opened;
    const code = { code: 'WS_ERR_LEGACY_UNSUPPORTED' };
    assert.throws(() => ws.send(Buffer.from([1, 2, 3])), code);
    assert.throws(() => ws.send(new Blob(['x'])), code);
    assert.throws(() => ws.ping(), code);
    assert.throws(() => ws.pong(), code);
    ws.send('still open');
    assert.equal(await hixie76Read(c.reader), 'still open');
  });

  it('a text frame past maxPayload (never ended by 0xFF) closes the connection with an error', async () => {
    const s = await serve({ legacy: { hixie76: true }, maxPayload: 1024 });
    const opened = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    const [ws] = await opened;
    const error = next<[Error & { code?: string; closeCode?: number }]>(ws, 'error');
    const close = recordClose(ws);
    c.socket.write(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(4096, 0x61)]));
    assert.equal((await error)[0].code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.equal(await hixie76Read(c.reader), 'close');
    await c.reader.closed();
    // No closing frame came back: 1006, as for RFC 6455 connections; the error says 1009.
    assert.equal((await close).code, 1006);
    assert.equal((await error)[0].closeCode, 1009);
  });

  it('the 8 bytes may come after the head (an attached http.Server, handleUpgrade with a short head)', async () => {
    const wss = new WebSocketServer({ noServer: true, legacy: { hixie76: true } });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    echo(wss);
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    let heads: number[] = [];
    let headIn: () => void = () => {};
    const gotHead = new Promise<void>((resolve) => {
      headIn = resolve;
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      heads = [...heads, head.length];
      headIn();
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const c = await hixie76Connect(port, { key3After: gotHead });
    defer(() => c.socket.destroy());
    assert.deepEqual(heads, [0]);
    assert.match(c.head, /^HTTP\/1\.1 101 /);
    assert.deepEqual(c.answer, c.expected);
    c.socket.write(hixie76Text('through http.Server'));
    assert.equal(await hixie76Read(c.reader), 'through http.Server');
  });

  for (const leanSockets of [true, false]) {
    it(`the 8 bytes after the head in a later packet, on a port server (leanSockets: ${leanSockets})`, async () => {
      const s = await serve({ leanSockets, legacy: { hixie76: true } });
      echo(s.wss);
      // shouldHandle runs once the head is in, before the 8 bytes are waited for: the client sends
      // them only then, so they cannot come with the head.
      let headIn: () => void = () => {};
      const gotHead = new Promise<void>((resolve) => {
        headIn = resolve;
      });
      const shouldHandle = s.wss.shouldHandle.bind(s.wss);
      s.wss.shouldHandle = (req) => {
        headIn();
        return shouldHandle(req);
      };
      const c = await hixie76Connect(s.port, { key3After: gotHead });
      defer(() => c.socket.destroy());
      assert.match(c.head, /^HTTP\/1\.1 101 /);
      assert.deepEqual(c.answer, c.expected);
      c.socket.write(hixie76Text('late key'));
      assert.equal(await hixie76Read(c.reader), 'late key');
    });
  }

  it('a client that never sends the 8 bytes gets 408 at the handshake timeout', async () => {
    const s = await serve({ legacy: { hixie76: true }, handshakeTimeout: 100 });
    const { socket, reader } = await rawConnection(s.port);
    socket.write(`${hixie76Request().head}1234`); // 4 of the 8 bytes
    assert.match(await reader.head(), /^HTTP\/1\.1 408 /);
  });

  it('the heartbeat leaves hixie-76 connections alone (no ping to send), not RFC 6455 ones', async () => {
    const s = await serve({ legacy: { hixie76: true }, heartbeat: { interval: 60_000, timeout: 60_000 } });
    const hixie = next<[WebSocket]>(s.wss, 'connection');
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    const { peer } = await connected(s);
    const [old] = await hixie;
    assert.equal((old as unknown as { _heartbeat: unknown })._heartbeat, null);
    assert.notEqual((peer as unknown as { _heartbeat: unknown })._heartbeat, null);
  });

  it('an RFC 6455 client on the same server is unaffected, and broadcast() reaches both as text', async () => {
    const s = await serve({ legacy: { hixie76: true } });
    const c = await hixie76Connect(s.port);
    defer(() => c.socket.destroy());
    const { ws } = await connected(s);
    // The server opens a connection as it writes its 101: both are in by now.
    assert.equal(s.wss.clients.size, 2);
    const received = next<[Buffer, boolean]>(ws, 'message');
    s.wss.broadcast('to all');
    assert.equal(await hixie76Read(c.reader), 'to all');
    const [data, isBinary] = await received;
    assert.equal(data.toString(), 'to all');
    assert.equal(isBinary, false);
  });

  it('with the option off (the default), a hixie-76 request is refused as ws refuses it (400, no key)', async () => {
    const s = await serve();
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const c = await hixie76Connect(s.port);
    assert.match(c.head, /^HTTP\/1\.1 400 /);
    assert.match(c.reader.buffer.toString(), /Sec-WebSocket-Key/);
    await c.reader.closed();
    assert.equal(connections, 0);
  });
});
