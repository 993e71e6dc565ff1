// The Fastify recipe without a plugin: a wskit WebSocketServer ({ noServer: true }) takes the upgrades
// of fastify.server, closed by a preClose hook; Fastify serves the HTTP routes. Driven by ws's client.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket as WsWebSocket } from 'ws';
import { type WebSocket, WebSocketServer } from '../../../src/index.js';
import { next, recordClose } from '../../node/helpers.js';

describe('Fastify with a wskit WebSocketServer on fastify.server', () => {
  let app: FastifyInstance;
  let wss: WebSocketServer;
  let base: string;

  before(async () => {
    app = Fastify();
    wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    app.get('/health', async () => ({ ok: true, clients: wss.clients.size }));
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    // Before the HTTP server closes: it would otherwise wait for the upgraded sockets.
    app.addHook('preClose', (done) => wss.close(() => done()));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  it('serves Fastify routes and WebSocket connections on one port', async () => {
    const ws = new WsWebSocket(`ws://${base}/ws`);
    await next(ws, 'open');
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.deepEqual(response.json(), { ok: true, clients: 1 });
    ws.send('hello fastify');
    const [echo, isBinary] = await next<[Buffer, boolean]>(ws, 'message');
    assert.deepEqual([isBinary, echo.toString()], [false, 'hello fastify']);
    const closed = recordClose(ws);
    ws.close(4000, 'bye');
    assert.deepEqual(await closed, { code: 4000, reason: 'bye' });
  });

  it('refuses an upgrade for a path it does not serve', async () => {
    const ws = new WsWebSocket(`ws://${base}/nope`);
    ws.on('error', () => {});
    const [, res] = await next<[unknown, IncomingMessage]>(ws, 'unexpected-response');
    assert.equal(res.statusCode, 404);
    res.resume();
    ws.terminate();
  });

  it('closes the WebSocket clients with 1001 when Fastify closes', async () => {
    const ws = new WsWebSocket(`ws://${base}/ws`);
    await next(ws, 'open');
    const closed = recordClose(ws);
    await app.close();
    assert.equal((await closed).code, 1001);
  });
});
