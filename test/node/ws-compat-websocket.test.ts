// ws compatibility of a connection's API, each case run against ws and wskit side by side.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { WebSocket as Wskit, WebSocketServer } from '../../src/index.js';
import { closeServer, defer, next, recordClose, runCleanups, WsServer, WsWebSocket } from './helpers.js';

afterEach(runCleanups);

type AnyServer = WebSocketServer | WsServer;
type AnySocket = Wskit | WsWebSocket;

const IMPLEMENTATIONS = [
  { name: 'ws', Server: WsServer, Client: WsWebSocket },
  { name: 'wskit', Server: WebSocketServer, Client: Wskit },
] as const;

/** A server of `impl` with `options`, a client of the same implementation, and the server's side. */
async function pair(impl: (typeof IMPLEMENTATIONS)[number], options: object) {
  const wss = new impl.Server({ port: 0, host: '127.0.0.1', ...options }) as AnyServer;
  defer(() => closeServer(wss));
  await next(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  const connection = next<[AnySocket]>(wss, 'connection');
  const client = new impl.Client(`ws://127.0.0.1:${port}`) as AnySocket;
  defer(() => client.terminate());
  await next(client, 'open');
  const [peer] = await connection;
  return { client, peer };
}

describe('ws compatibility: bufferedAmount', () => {
  test('counts a message while it is compressed, and what send() is given once closing or closed', async () => {
    const seen: Record<string, number[]> = {};
    for (const impl of IMPLEMENTATIONS) {
      const { peer } = await pair(impl, { perMessageDeflate: { threshold: 0 } });
      const amounts: number[] = [];
      peer.send(Buffer.alloc(1 << 20, 7)); // compressed on the thread pool in both
      amounts.push(peer.bufferedAmount);
      peer.send('small');
      amounts.push(peer.bufferedAmount);
      peer.close();
      peer.send('x'.repeat(100)); // closing: not sent, but counted
      amounts.push(peer.bufferedAmount);
      await next(peer, 'close');
      amounts.push(peer.bufferedAmount);
      peer.send('y'.repeat(50));
      amounts.push(peer.bufferedAmount);
      seen[impl.name] = amounts;
    }
    assert.deepEqual(seen.wskit, seen.ws);
    assert.deepEqual(seen.ws, [1 << 20, (1 << 20) + 5, (1 << 20) + 105, 100, 150]);
  });

  test('a client whose handshake failed counts what send() is given after the close', async () => {
    const seen: Record<string, number> = {};
    for (const impl of IMPLEMENTATIONS) {
      const ws = new impl.Client('ws://127.0.0.1:1') as AnySocket;
      ws.on('error', () => {});
      await recordClose(ws);
      ws.send('z'.repeat(10));
      ws.send(new Uint8Array(6));
      seen[impl.name] = ws.bufferedAmount;
    }
    assert.deepEqual(seen, { ws: 16, wskit: 16 });
  });
});
