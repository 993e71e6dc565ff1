// The per-connection guard of the CLI servers, on an in-process server: a handler that throws closes
// its connection with 1011 and is reported; the server goes on serving.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { guard } from '../../src/cli/connection-guard.js';
import { type WebSocket as ServerSocket, WebSocketServer } from '../../src/index.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function start(onConnection: (ws: ServerSocket, report: (err: unknown) => void) => void) {
  const reported: unknown[] = [];
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  server.on('connection', (ws: ServerSocket) => {
    const report = (err: unknown) => reported.push(err);
    guard(ws, report, () => onConnection(ws, report))();
  });
  await once(server, 'listening');
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, reported };
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  return ws;
}

describe('guard', () => {
  it('a message handler that throws: reported, 1011, and the next connection is served', async () => {
    const { url, reported } = await start((ws, report) => {
      ws.on(
        'message',
        guard(ws, report, (data: Buffer) => {
          if (String(data) === 'boom') throw new Error('handler bug');
          ws.send(data);
        }),
      );
    });
    const a = await open(url);
    a.send('boom');
    const [code, reason] = await once(a, 'close');
    assert.equal(code, 1011);
    assert.equal(String(reason), 'Internal server error');
    assert.equal(reported.length, 1);
    assert.equal((reported[0] as Error).message, 'handler bug');
    const b = await open(url);
    b.send('fine');
    assert.equal(String((await once(b, 'message'))[0]), 'fine');
    b.close();
  });

  it('a connection handler that throws: reported, 1011', async () => {
    const { url, reported } = await start(() => {
      throw new TypeError('connection handler bug');
    });
    const a = await open(url);
    const [code] = await once(a, 'close');
    assert.equal(code, 1011);
    assert.ok(reported[0] instanceof TypeError);
  });

  it('a report that throws still closes the connection and throws nothing', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    server.on('connection', (ws: ServerSocket) => {
      const handler = guard(
        ws,
        () => {
          throw new Error('report bug');
        },
        () => {
          throw new Error('handler bug');
        },
      );
      assert.doesNotThrow(handler);
    });
    await once(server, 'listening');
    const a = await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    assert.equal((await once(a, 'close'))[0], 1011);
  });
});
