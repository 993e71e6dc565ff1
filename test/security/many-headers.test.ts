// SECURITY.md, "Many headers" (the class of ws's CVE-2024-37890: a request with more headers than
// the HTTP server keeps crashed the server, the handshake headers it then looked up being missing).
// wskit's own server refuses such a request with 431; behind an http.Server that drops the extra
// headers, the handshake finds what it needs missing and answers 400. Either way the server carries
// on, and a client whose server sends a flood of headers fails with an error, not a crash.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketError, WebSocketServer } from '../../src/index.js';
import {
  acceptFor,
  next,
  rawRequest,
  rawServer,
  rawWebSocket,
  serve,
  statusOf,
  upgradeRequest,
  within,
} from './helpers.js';

function junk(count: number): string {
  let lines = '';
  for (let i = 0; i < count; i++) lines += `X-Junk-${i}: ${i}\r\n`;
  return lines;
}

/** A request whose handshake headers come after `count` others. */
function handshakeAfter(count: number): string {
  return `GET / HTTP/1.1\r\n${junk(count)}${upgradeRequest().slice('GET / HTTP/1.1\r\n'.length)}`;
}

describe('many headers (CVE-2024-37890 class)', () => {
  it("wskit's own server: more than maxHeadersCount headers get 431, and the server carries on", async () => {
    const { port } = await serve({ maxHeadersCount: 100 });
    const response = await rawRequest(port, handshakeAfter(150));
    assert.equal(statusOf(response), 431, response.split('\r\n')[0]);
    await rawWebSocket(port); // still serving
  });

  it('the default limit (100) holds too, whatever the header block holds within maxHeaderSize', async () => {
    const { port } = await serve();
    // 101 headers of 8 bytes each: far under 16 KiB, over the count.
    const lines = Array.from({ length: 101 }, (_, i) => `X${i}: 1\r\n`).join('');
    const response = await rawRequest(port, `GET / HTTP/1.1\r\n${lines}\r\n`);
    assert.equal(statusOf(response), 431);
  });

  it('attached to an http.Server that drops headers past its maxHeadersCount: 400, no crash', async () => {
    const http = createServer();
    http.maxHeadersCount = 10;
    const wss = new WebSocketServer({ server: http });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    try {
      const port = (http.address() as AddressInfo).port;
      // Node keeps the first 10 headers: Sec-WebSocket-Key and the rest are dropped.
      const response = await rawRequest(port, handshakeAfter(20));
      assert.equal(statusOf(response), 400, response.split('\r\n')[0]);
      // The same server still completes a normal handshake.
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      await next(client, 'open');
      client.terminate();
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('client: a 101 whose Accept comes after the 2,000 headers Node keeps fails with WS_ERR_HANDSHAKE_INVALID_RESPONSE', async () => {
    const port = await rawServer((request, socket) => {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\n${'X: 1\r\n'.repeat(2100)}Upgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
      );
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const closed = within(new Promise((resolve) => ws.once('close', resolve)), "the client's close");
    const [error] = await next<[Error]>(ws, 'error');
    assert.ok(error instanceof WebSocketError, String(error));
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
    await closed;
  });

  it("client: a 101 over Node's header size limit fails with Node's parse error, and a close", async () => {
    const port = await rawServer((request, socket) => {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\n${junk(3000)}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
      );
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const closed = within(new Promise((resolve) => ws.once('close', resolve)), "the client's close");
    const [error] = await next<[Error & { code?: string }]>(ws, 'error');
    assert.equal(error.code, 'HPE_HEADER_OVERFLOW', String(error));
    await closed;
  });
});
