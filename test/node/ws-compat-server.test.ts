// ws compatibility of WebSocketServer (a server made with `port`), each case run against ws and wskit
// side by side.
import assert from 'node:assert/strict';
import { get, IncomingMessage } from 'node:http';
import { afterEach, describe, test } from 'node:test';
import { WebSocketServer, WebSocket as Wskit } from '../../src/index.js';
import { closeServer, defer, next, runCleanups, WsServer, WsWebSocket, within } from './helpers.js';

afterEach(runCleanups);

const IMPLEMENTATIONS = [
  { name: 'ws', Server: WsServer, Client: WsWebSocket },
  { name: 'wskit', Server: WebSocketServer, Client: Wskit },
] as const;

describe('ws compatibility: close() of a server that is closed', () => {
  test("the callback gets 'The server is not running' and 'close' is emitted again", async () => {
    for (const impl of IMPLEMENTATIONS) {
      const wss = new impl.Server({ port: 0, host: '127.0.0.1' }) as WsServer;
      await next(wss, 'listening');
      await within(new Promise<void>((resolve) => wss.close(() => resolve())), `${impl.name}: first close`);
      const emitted = next(wss, 'close');
      const err = await within(
        new Promise<Error | undefined>((resolve) => wss.close(resolve)),
        `${impl.name}: the second close's callback`,
      );
      await emitted;
      assert.ok(err instanceof Error, impl.name);
      assert.equal(err.message, 'The server is not running', impl.name);
    }
  });
});

describe('ws compatibility: the request of a server made with `port`', () => {
  test("is an http.IncomingMessage in verifyClient, handleProtocols, 'headers' and 'connection'", async () => {
    for (const impl of IMPLEMENTATIONS) {
      const seen: Record<string, boolean> = {};
      const wss = new impl.Server({
        port: 0,
        host: '127.0.0.1',
        verifyClient: (info: { req: unknown }) => {
          seen.verifyClient = info.req instanceof IncomingMessage;
          return true;
        },
        handleProtocols: (protocols: Set<string>, req: unknown) => {
          seen.handleProtocols = req instanceof IncomingMessage;
          return [...protocols][0];
        },
      }) as WsServer;
      defer(() => closeServer(wss));
      await next(wss, 'listening');
      wss.on('headers', (_headers, req) => {
        seen.headers = req instanceof IncomingMessage;
      });
      const connection = next<[WsWebSocket, IncomingMessage]>(wss, 'connection');
      const port = (wss.address() as { port: number }).port;
      const client = new (impl.Client as typeof WsWebSocket)(`ws://127.0.0.1:${port}/path?q=1`, 'chat', {
        headers: { 'x-test': 'yes' },
      });
      defer(() => client.terminate());
      const [, req] = await connection;
      seen.connection = req instanceof IncomingMessage;
      assert.deepEqual(
        seen,
        { verifyClient: true, handleProtocols: true, headers: true, connection: true },
        impl.name,
      );
      assert.equal(req.method, 'GET', impl.name);
      assert.equal(req.url, '/path?q=1', impl.name);
      assert.equal(req.httpVersion, '1.1', impl.name);
      assert.equal(req.headers['x-test'], 'yes', impl.name);
      assert.equal(req.headers['sec-websocket-protocol'], 'chat', impl.name);
      assert.ok(req.rawHeaders.includes('x-test'), impl.name);
      assert.equal(req.socket.remoteAddress, '127.0.0.1', impl.name);
      // Its stream side is a working Readable, as an upgrade request's is.
      req.on('data', () => {});
      assert.equal(typeof req.readable, 'boolean', impl.name);
    }
  });
});

describe('ws compatibility: verifyClient refusals (version 13)', () => {
  test('false gives 401; cb(false, code, message, headers) gives that code and those headers', async () => {
    const variants = [
      { verifyClient: () => false },
      { verifyClient: (_info: unknown, cb: (ok: boolean, code?: number) => void) => cb(false) },
      { verifyClient: (_info: unknown, cb: (ok: boolean, code?: number) => void) => cb(false, 404) },
      {
        verifyClient: (
          _info: unknown,
          cb: (ok: boolean, code?: number, message?: string, headers?: object) => void,
        ) => process.nextTick(cb, false, 503, '', { 'Retry-After': 120 }),
      },
    ];
    const seen: Record<string, [number | undefined, string | undefined][]> = {};
    for (const impl of IMPLEMENTATIONS) {
      const results: [number | undefined, string | undefined][] = [];
      for (const options of variants) {
        const wss = new impl.Server({ port: 0, host: '127.0.0.1', ...options } as object) as WsServer;
        defer(() => closeServer(wss));
        await next(wss, 'listening');
        const response = new Promise<[number | undefined, string | undefined]>((resolve, reject) => {
          const req = get({
            host: '127.0.0.1',
            port: (wss.address() as { port: number }).port,
            headers: {
              Connection: 'Upgrade',
              Upgrade: 'websocket',
              'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
              'Sec-WebSocket-Version': '13',
            },
          });
          req.on('response', (res) => {
            res.resume();
            resolve([res.statusCode, res.headers['retry-after'] as string | undefined]);
          });
          req.on('error', reject);
        });
        results.push(await within(response, `${impl.name}: the refusal`));
      }
      seen[impl.name] = results;
    }
    assert.deepEqual(seen.wskit, seen.ws);
    assert.deepEqual(seen.ws, [
      [401, undefined],
      [401, undefined],
      [404, undefined],
      [503, '120'],
    ]);
  });
});
