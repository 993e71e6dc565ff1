// The Express recipe: an Express app and a wskit WebSocketServer ({ noServer: true }) on one HTTP
// server, the upgrade routed and authenticated by the application before handleUpgrade. Driven by ws's
// client (the one most Express users have) and fetch.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { WebSocket as WsWebSocket } from 'ws';
import { WebSocket, WebSocketServer } from '../../../src/index.js';
import { closeHttp, next, portOf, recordClose, within } from '../../node/helpers.js';

/** Writes an HTTP error on a socket that is not to be upgraded, and closes it. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

describe('Express with a wskit WebSocketServer in noServer mode', () => {
  let http: Server;
  let wss: WebSocketServer;
  let base: string;
  /** The WebSocket endpoints: a path, and the server that takes its upgrades. */
  const routes = new Map<string, WebSocketServer>();

  before(async () => {
    const app = express();
    app.get('/health', (_req, res) => {
      res.json({ ok: true, clients: wss.clients.size });
    });
    http = createServer(app);
    wss = new WebSocketServer({ noServer: true });
    routes.set('/ws', wss);
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
      ws.send(`welcome ${user}`);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const target = routes.get(url.pathname);
      if (target === undefined) return refuse(socket, 404, 'Not Found');
      if (url.searchParams.get('token') === null) return refuse(socket, 401, 'Unauthorized');
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    base = `127.0.0.1:${portOf(http)}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await closeHttp(http);
  });

  it('serves Express routes and WebSocket connections on one port', async () => {
    const ws = new WsWebSocket(`ws://${base}/ws?token=ada`);
    const [welcome] = await next<[Buffer]>(ws, 'message');
    assert.equal(welcome.toString(), 'welcome ada');
    const response = await fetch(`http://${base}/health`);
    assert.deepEqual(await response.json(), { ok: true, clients: 1 });
    ws.send(Buffer.from([1, 2, 3]));
    const [echo, isBinary] = await next<[Buffer, boolean]>(ws, 'message');
    assert.deepEqual([isBinary, [...echo]], [true, [1, 2, 3]]);
    const closed = recordClose(ws);
    ws.close(1000, 'done');
    assert.deepEqual(await closed, { code: 1000, reason: 'done' });
  });

  it('gives the connection handler the real IncomingMessage', async () => {
    const seen = next<[WebSocket, IncomingMessage]>(wss, 'connection');
    const ws = new WsWebSocket(`ws://${base}/ws?token=grace`, { headers: { 'x-request-id': '42' } });
    const [server, req] = await seen;
    await next(ws, 'open');
    assert.ok(server instanceof WebSocket);
    assert.equal(req.headers['x-request-id'], '42');
    assert.equal(typeof req.on, 'function', 'a stream, as node:http gives it');
    ws.terminate();
  });

  it('lets the application refuse an upgrade (404 for another path, 401 without a token)', async () => {
    for (const [path, status] of [
      ['/elsewhere?token=x', 404],
      ['/ws', 401],
    ] as const) {
      const ws = new WsWebSocket(`ws://${base}${path}`);
      ws.on('error', () => {});
      const [, res] = await next<[unknown, IncomingMessage]>(ws, 'unexpected-response');
      assert.equal(res.statusCode, status);
      res.resume();
      ws.terminate();
    }
  });

  it('closes its clients with 1001 when one WebSocketServer closes, the rest still serving', async () => {
    const other = new WebSocketServer({ noServer: true });
    routes.set('/other', other);
    try {
      const ws = new WsWebSocket(`ws://${base}/other?token=x`);
      await next(ws, 'open');
      const closed = recordClose(ws);
      await within(new Promise<void>((resolve) => other.close(() => resolve())), 'the server to close');
      assert.equal((await closed).code, 1001);
      assert.equal((await fetch(`http://${base}/health`)).status, 200);
      const still = new WsWebSocket(`ws://${base}/ws?token=y`);
      assert.equal(String((await next<[Buffer]>(still, 'message'))[0]), 'welcome y');
      still.terminate();
    } finally {
      routes.delete('/other');
    }
  });
});
