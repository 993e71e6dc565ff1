// What net.Server does for each connection, kept with LeanSockets (the `port` option's default):
// getConnections(), close() waiting for connections, maxConnections, 'connection' for the
// application, the net.server.socket diagnostics channel; and the fallback to net.Socket under
// --pending-deprecation in either spelling.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import {
  closeServer,
  defer,
  next,
  rawConnect,
  readAll,
  recordClose,
  runCleanups,
  within,
} from './helpers.js';

afterEach(runCleanups);

async function leanServer(options: object = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  defer(() => closeServer(wss));
  await next(wss, 'listening');
  const net = (wss as unknown as { ownServer: Server }).ownServer;
  return { wss, net, url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}` };
}

function connections(net: Server): Promise<number> {
  return new Promise((resolve, reject) => net.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('LeanSocket servers keep what net.Server does per connection', () => {
  test('getConnections() counts LeanSockets, from accept to close', async () => {
    const { wss, net, url } = await leanServer();
    const a = new WebSocket(url);
    const b = new WebSocket(url);
    defer(() => a.terminate());
    defer(() => b.terminate());
    const [peer] = await next<[WebSocket, { socket: object }]>(wss, 'connection');
    await next(wss, 'connection');
    assert.equal(peer.constructor.name, 'WebSocket');
    assert.equal(
      (wss.clients.values().next().value as unknown as { _socket: object })._socket.constructor.name,
      'LeanSocket',
    );
    assert.equal(await connections(net), 2);
    a.terminate();
    const gone = [...wss.clients].find((c) => c.readyState !== WebSocket.OPEN) ?? peer;
    await next(gone, 'close');
    assert.equal(await connections(net), 1);
  });

  test("net.Server's maxConnections refuses one too many", async () => {
    const { net, url } = await leanServer();
    net.maxConnections = 1;
    const a = new WebSocket(url);
    defer(() => a.terminate());
    await next(a, 'open');
    const b = new WebSocket(url);
    b.on('error', () => {});
    const { code } = await recordClose(b);
    assert.equal(code, 1006);
    assert.equal(await connections(net), 1);
  });

  test("the application's 'connection' listener and the net.server.socket channel get the LeanSocket", async () => {
    const published: unknown[] = [];
    const onPublish = (message: unknown) => published.push((message as { socket: unknown }).socket);
    subscribe('net.server.socket', onPublish);
    defer(() => unsubscribe('net.server.socket', onPublish));
    const { wss, net, url } = await leanServer();
    const seen = next<[object]>(net, 'connection');
    const ws = new WebSocket(url);
    defer(() => ws.terminate());
    const [socket] = await seen;
    await next(wss, 'connection');
    assert.equal(socket.constructor.name, 'LeanSocket');
    assert.ok(published.includes(socket), 'published on net.server.socket');
  });

  test("close() waits for the connections, as net.Server's does, and 'close' follows their end", async () => {
    const { wss, net, url } = await leanServer({ closeTimeout: 100 });
    const raw = await rawConnect(Number(new URL(url).port)); // never upgrades
    defer(() => raw.destroy());
    const answer = readAll(raw);
    await within(
      (async () => {
        while ((await connections(net)) === 0) await new Promise((resolve) => setImmediate(resolve));
      })(),
      'the connection to be accepted',
    );
    const closing = new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.match((await answer).toString(), /^HTTP\/1\.1 503 /);
    await within(closing, "the server's close callback");
    assert.equal(await connections(net), 0);
  });
});

describe('--pending-deprecation falls back to net.Socket', () => {
  const script = fileURLToPath(new URL('./fixtures/lean-fallback.ts', import.meta.url));
  for (const flag of ['--pending-deprecation', '--pending_deprecation']) {
    test(`${flag} on the command line and in NODE_OPTIONS`, () => {
      const argv = execFileSync(process.execPath, ['--import', 'tsx', flag, script], { encoding: 'utf8' });
      assert.equal(argv.trim(), 'Socket');
      const env = execFileSync(process.execPath, ['--import', 'tsx', script], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${flag}` },
      });
      assert.equal(env.trim(), 'Socket');
    });
  }
  test('without it, LeanSocket', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'LeanSocket');
  });
});
