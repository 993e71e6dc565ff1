// Opening handshakes that break the rules, sent over raw TCP: each gets its HTTP status (and the
// headers that go with it), the socket is closed, and the server carries on.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import {
  closeHttp,
  connected,
  defer,
  httpServer,
  rawConnect,
  rawRequest,
  readAll,
  runCleanups,
  serve,
  upgradeRequest,
} from './helpers.js';

afterEach(runCleanups);

function status(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  assert.ok(match, `not an HTTP response: ${JSON.stringify(response.slice(0, 80))}`);
  return Number(match[1]);
}

function header(response: string, name: string): string | undefined {
  const head = response.slice(0, response.indexOf('\r\n\r\n'));
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head);
  return match?.[1].trim();
}

const cases: { name: string; request: string | Buffer; status: number; headers?: Record<string, string> }[] =
  [
    { name: 'no Sec-WebSocket-Key', request: upgradeRequest({ 'Sec-WebSocket-Key': null }), status: 400 },
    {
      name: 'a Sec-WebSocket-Key that is not 16 bytes of base64',
      request: upgradeRequest({ 'Sec-WebSocket-Key': 'dG9vIHNob3J0' }),
      status: 400,
    },
    {
      name: 'an unsupported Sec-WebSocket-Version',
      request: upgradeRequest({ 'Sec-WebSocket-Version': '7' }),
      status: 400,
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    },
    {
      name: 'no Sec-WebSocket-Version',
      request: upgradeRequest({ 'Sec-WebSocket-Version': null }),
      status: 400,
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    },
    {
      name: 'a POST',
      request: upgradeRequest({}, 'POST / HTTP/1.1'),
      status: 405,
      headers: { Allow: 'GET' },
    },
    { name: 'Upgrade: h2c instead of websocket', request: upgradeRequest({ Upgrade: 'h2c' }), status: 400 },
    {
      name: 'Connection without Upgrade',
      request: upgradeRequest({ Connection: 'close' }),
      status: 426,
    },
    {
      name: 'an invalid Sec-WebSocket-Protocol list',
      request: upgradeRequest({ 'Sec-WebSocket-Protocol': 'chat, , bad token' }),
      status: 400,
    },
    { name: 'no Host header', request: upgradeRequest({ Host: null }), status: 400 },
    {
      name: 'garbage bytes',
      request: Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
      status: 400,
    },
    { name: 'a garbled request line', request: 'GET\r\n\r\n', status: 400 },
    {
      name: 'a header block over maxHeaderSize',
      request: upgradeRequest({ 'X-Huge': 'a'.repeat(20 * 1024) }),
      status: 431,
    },
    {
      name: 'a plain GET (no upgrade at all)',
      request: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      status: 426,
    },
  ];

describe('malformed opening handshakes get the right status', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const s = await serve();
      let errors = 0;
      s.wss.on('error', () => errors++);
      let connections = 0;
      s.wss.on('connection', () => connections++);
      const response = await rawRequest(s.port, c.request);
      assert.equal(status(response), c.status, response.split('\r\n')[0]);
      for (const [name, value] of Object.entries(c.headers ?? {})) {
        assert.equal(header(response, name), value, `${name} header`);
      }
      assert.equal(connections, 0);
      assert.equal(errors, 0);
      // The server carries on.
      const { ws } = await connected(s);
      assert.equal(ws.readyState, ws.OPEN);
    });
  }

  it('the refusal is a complete response: Connection: close and a Content-Length body', async () => {
    const s = await serve();
    const response = await rawRequest(s.port, upgradeRequest({ 'Sec-WebSocket-Key': null }));
    assert.equal(header(response, 'Connection'), 'close');
    const body = response.slice(response.indexOf('\r\n\r\n') + 4);
    assert.equal(Number(header(response, 'Content-Length')), Buffer.byteLength(body));
    assert.match(body, /Sec-WebSocket-Key/);
  });

  it('the same checks in noServer mode through handleUpgrade()', async () => {
    const wss = new WebSocketServer({ noServer: true });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, () => assert.fail('no connection expected'));
    });
    const response = await rawRequest(port, upgradeRequest({ 'Sec-WebSocket-Version': '12' }));
    assert.equal(status(response), 400);
    assert.equal(header(response, 'Sec-WebSocket-Version'), '13, 8');
  });

  it('a client that resets the connection mid-handshake does not crash the server', async () => {
    let verifying: () => void = () => {};
    const verified = new Promise<void>((resolve) => {
      verifying = resolve;
    });
    const s = await serve({
      verifyClient: (_info: unknown, cb: unknown) => {
        verifying();
        // Accept later, once the client is gone.
        setImmediate(() => setImmediate(() => (cb as (ok: boolean) => void)(true)));
      },
    });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const socket = await rawConnect(s.port);
    const gone = readAll(socket);
    socket.write(upgradeRequest());
    await verified;
    socket.resetAndDestroy();
    await gone;
    // The server is unharmed and took no connection from the dead socket.
    const { ws } = await connected(s);
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(connections, 1);
  });

  it('a client that resets the connection in the middle of its request head does not crash the server', async () => {
    const s = await serve();
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const socket = await rawConnect(s.port);
    const gone = readAll(socket);
    const request = upgradeRequest();
    socket.write(request.slice(0, request.length >> 1));
    // Let the server read the first half, then reset.
    await new Promise((resolve) => setImmediate(resolve));
    socket.resetAndDestroy();
    await gone;
    const { ws } = await connected(s);
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(connections, 1);
  });

  it('a refused request with another pipelined behind it: one response, then the connection is closed', async () => {
    const s = await serve();
    const socket = await rawConnect(s.port);
    defer(() => socket.destroy());
    const response = readAll(socket);
    // An invalid request, then a valid one on the same connection, then a half-close.
    socket.end(`${upgradeRequest({ 'Sec-WebSocket-Key': null })}${upgradeRequest()}`);
    const text = (await response).toString('latin1');
    assert.equal(status(text), 400);
    assert.equal(text.match(/HTTP\/1\.1/g)?.length, 1, 'one response, then the connection is closed');
  });
});
