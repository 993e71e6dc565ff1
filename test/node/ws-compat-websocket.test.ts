// ws compatibility of a connection's API, each case run against ws and wskit side by side.
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { createServer } from 'node:http';
import { afterEach, describe, test } from 'node:test';
import { WebSocketServer, WebSocket as Wskit } from '../../src/index.js';
import {
  closeServer,
  defer,
  maskedFrame,
  next,
  rawWebSocket,
  recordClose,
  runCleanups,
  WsServer,
  WsWebSocket,
  within,
} from './helpers.js';

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
  const client = new (impl.Client as typeof WsWebSocket)(`ws://127.0.0.1:${port}`) as AnySocket;
  defer(() => client.terminate());
  await next(client, 'open');
  const [peer] = await connection;
  return { client, peer };
}

describe('ws compatibility: bufferedAmount', () => {
  test('counts a message while it is compressed, and what send(), ping() and pong() are given once closing or closed', async () => {
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
      peer.ping('zz');
      peer.pong(Buffer.from('zzz'));
      amounts.push(peer.bufferedAmount);
      seen[impl.name] = amounts;
    }
    assert.deepEqual(seen.wskit, seen.ws);
    assert.deepEqual(seen.ws, [1 << 20, (1 << 20) + 5, (1 << 20) + 105, 100, 150, 155]);
  });

  test('counts a small compressed message by the data given until it is written, as ws counts its sender queue', async () => {
    const seen: Record<string, number[]> = {};
    for (const impl of IMPLEMENTATIONS) {
      const { peer } = await pair(impl, { perMessageDeflate: { threshold: 0 } });
      const amounts: number[] = [];
      peer.send('foo');
      amounts.push(peer.bufferedAmount);
      const written = new Promise<void>((resolve, reject) => {
        peer.send('bar', (err?: Error | null) => {
          if (err) reject(err);
          else {
            amounts.push(peer.bufferedAmount);
            resolve();
          }
        });
      });
      amounts.splice(1, 0, peer.bufferedAmount);
      await within(written, `${impl.name}: the second send's callback`);
      seen[impl.name] = amounts;
    }
    assert.deepEqual(seen, { ws: [3, 6, 0], wskit: [3, 6, 0] });
  });

  test('a client whose handshake failed counts what send() is given after the close', async () => {
    const seen: Record<string, number> = {};
    for (const impl of IMPLEMENTATIONS) {
      const ws = new (impl.Client as typeof WsWebSocket)('ws://127.0.0.1:1') as WsWebSocket;
      ws.on('error', () => {});
      await recordClose(ws);
      ws.send('z'.repeat(10));
      ws.send(new Uint8Array(6));
      seen[impl.name] = ws.bufferedAmount;
    }
    assert.deepEqual(seen, { ws: 16, wskit: 16 });
  });
});

/** A raw client of a server of `impl` with `options`; the server-side connection's error and close. */
async function rawPeerOf(impl: (typeof IMPLEMENTATIONS)[number], options: object) {
  const wss = new impl.Server({ port: 0, host: '127.0.0.1', ...options }) as AnyServer;
  defer(() => closeServer(wss));
  await next(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  const outcome = new Promise<{
    error: (Error & { code?: string }) | null;
    code: number;
    messages: string[];
  }>((resolve) => {
    (wss as WsServer).on('connection', (ws) => {
      let error: Error | null = null;
      const messages: string[] = [];
      ws.on('message', (data) => messages.push(String(data)));
      ws.on('error', (e) => {
        error = e;
      });
      ws.on('close', (code) => resolve({ error, code, messages }));
    });
  });
  const { socket } = await rawWebSocket(port);
  defer(() => socket.destroy());
  return { socket, outcome: within(outcome, "the server side's close") };
}

describe('ws compatibility: maxFragments, maxBufferedChunks, skipUTF8Validation', () => {
  test('maxFragments: a message in more frames fails with 1008 and WS_ERR_TOO_MANY_BUFFERED_PARTS; one in that many arrives', async () => {
    for (const impl of IMPLEMENTATIONS) {
      const { socket, outcome } = await rawPeerOf(impl, { maxFragments: 3 });
      const three = [maskedFrame(0x1, 'a', false), maskedFrame(0x0, 'b', false), maskedFrame(0x0, 'c')];
      const four = [maskedFrame(0x1, 'a', false), maskedFrame(0x0, 'b', false), maskedFrame(0x0, 'c', false)];
      socket.write(Buffer.concat([...three, ...four, maskedFrame(0x0, 'd')]));
      const { error, messages } = await outcome;
      assert.deepEqual(messages, ['abc'], impl.name);
      assert.equal(error?.code, 'WS_ERR_TOO_MANY_BUFFERED_PARTS', impl.name);
      assert.ok(error instanceof RangeError, impl.name);
      assert.equal((error as { closeCode?: number }).closeCode ?? 1008, 1008, impl.name);
    }
  });

  test('maxBufferedChunks: a frame arriving in more chunks fails with WS_ERR_TOO_MANY_BUFFERED_PARTS', async () => {
    for (const impl of IMPLEMENTATIONS) {
      const { socket, outcome } = await rawPeerOf(impl, { maxBufferedChunks: 4 });
      const frame = maskedFrame(0x2, Buffer.alloc(64, 1));
      // One byte per write, each acknowledged by a round trip, so that each is a chunk of its own.
      socket.setNoDelay(true);
      let result: Awaited<typeof outcome> | null = null;
      outcome.then((r) => {
        result = r;
      });
      for (let i = 0; i < frame.length && result === null; i++) {
        socket.write(frame.subarray(i, i + 1));
        await new Promise<void>((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => socket.write('', () => resolve()));
      }
      const { error } = await outcome;
      assert.equal(error?.code, 'WS_ERR_TOO_MANY_BUFFERED_PARTS', impl.name);
    }
  });

  test('skipUTF8Validation: invalid UTF-8 text is delivered instead of failing with 1007', async () => {
    for (const impl of IMPLEMENTATIONS) {
      const { socket, outcome } = await rawPeerOf(impl, { skipUTF8Validation: true });
      socket.write(
        Buffer.concat([
          maskedFrame(0x1, Buffer.from([0xff, 0x61])),
          maskedFrame(0x8, Buffer.from([0x03, 0xe8, 0xff])),
        ]),
      );
      const { error, messages } = await outcome;
      assert.equal(error, null, `${impl.name}: no error`);
      assert.equal(messages.length, 1, impl.name);
    }
  });
});

describe('ws compatibility: req.socket', () => {
  for (const [what, options] of [
    ['ws', null],
    ['wskit with LeanSockets', {}],
    ['wskit with net.Sockets', { leanSockets: false }],
  ] as const) {
    test(`${what}: a 'data' listener added in 'connection' gets the frames that follow, not the request`, async () => {
      const wss = (
        options === null
          ? new WsServer({ port: 0, host: '127.0.0.1' })
          : new WebSocketServer({ port: 0, host: '127.0.0.1', ...options })
      ) as WsServer;
      defer(() => closeServer(wss));
      await next(wss, 'listening');
      const first = new Promise<Buffer>((resolve) => {
        wss.on('connection', (_ws, req) => req.socket.once('data', resolve));
      });
      const { socket } = await rawWebSocket((wss.address() as { port: number }).port);
      defer(() => socket.destroy());
      socket.write(maskedFrame(0x1, 'hello'));
      const chunk = await within(first, "the socket's first 'data'");
      assert.equal(
        chunk[0],
        0x81,
        `a text frame, not ${JSON.stringify(chunk.subarray(0, 8).toString('latin1'))}`,
      );
    });
  }
});

describe('ws compatibility: the mask option (kept to RFC 6455 §5.1 on purpose)', () => {
  test('a client told mask: false still masks, and a server told mask: true does not: ws peers accept both', async () => {
    const theirs = new WsServer({ port: 0, host: '127.0.0.1' });
    defer(() => closeServer(theirs));
    await next(theirs, 'listening');
    const received = next<[Buffer]>(theirs, 'connection').then(async ([peer]) => {
      const [data] = await next<[Buffer]>(peer as unknown as WsWebSocket, 'message');
      return String(data);
    });
    const client = new Wskit(`ws://127.0.0.1:${(theirs.address() as { port: number }).port}`);
    defer(() => client.terminate());
    await next(client, 'open');
    client.send('from a client', { mask: false });
    assert.equal(await within(received, "ws's server to get the message"), 'from a client');

    const ours = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    defer(() => closeServer(ours));
    await next(ours, 'listening');
    ours.on('connection', (peer) => peer.send('from a server', { mask: true }));
    const wsClient = new WsWebSocket(`ws://127.0.0.1:${(ours.address() as { port: number }).port}`);
    defer(() => wsClient.terminate());
    const [data] = await next<[Buffer]>(wsClient, 'message');
    assert.equal(String(data), 'from a server');
  });
});

describe('ws compatibility: Blobs as Ping and Pong payloads', () => {
  test("ping(blob) and pong(blob) send the Blob's bytes in their turn; once closed they are counted in bufferedAmount", async () => {
    const seen: Record<string, unknown> = {};
    for (const impl of IMPLEMENTATIONS) {
      const { client, peer } = await pair(impl, {});
      const ping = next<[Buffer]>(peer, 'ping');
      const pong = next<[Buffer]>(peer, 'pong');
      const sent = new Promise<void>((resolve, reject) => {
        client.ping(new Blob(['hi']), undefined, (err) => (err ? reject(err) : resolve()));
      });
      client.pong(new Blob(['there']));
      const [[pingData], [pongData]] = await within(Promise.all([ping, pong]), `${impl.name}: ping and pong`);
      await within(sent, `${impl.name}: the ping's callback`);
      assert.throws(() => client.ping(new Blob([Buffer.alloc(126)])), RangeError, impl.name);
      client.close();
      await next(client, 'close');
      client.ping(new Blob(['abc']));
      client.pong(new Blob(['de']));
      seen[impl.name] = [String(pingData), String(pongData), client.bufferedAmount];
    }
    assert.deepEqual(seen, { ws: ['hi', 'there', 5], wskit: ['hi', 'there', 5] });
  });
});

describe('ws compatibility: the on* attributes', () => {
  test('onopen, onmessage, onclose and onerror are enumerable, configurable accessors of the prototype', () => {
    for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) {
      const ours = Object.getOwnPropertyDescriptor(Wskit.prototype, name);
      const theirs = Object.getOwnPropertyDescriptor(WsWebSocket.prototype, name);
      assert.ok(ours?.get && ours.set, name);
      assert.deepEqual(
        { enumerable: ours.enumerable, configurable: ours.configurable },
        { enumerable: theirs?.enumerable, configurable: theirs?.configurable },
        name,
      );
      assert.deepEqual(
        { enumerable: ours.enumerable, configurable: ours.configurable },
        { enumerable: true, configurable: true },
      );
    }
  });
});

describe('ws compatibility: close() after an unexpected response', () => {
  test("close() from the response's 'end' ends the handshake: 'error', 'close', and the kept-alive socket is destroyed", async () => {
    for (const impl of IMPLEMENTATIONS) {
      const server = createServer();
      server.on('upgrade', (_req, socket) => {
        socket.on('end', () => socket.end());
        socket.write('HTTP/1.1 502 Bad Gateway\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nfoo');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      defer(() => server.closeAllConnections());
      const port = (server.address() as { port: number }).port;
      const ws = new (impl.Client as typeof WsWebSocket)(`ws://127.0.0.1:${port}`);
      const body = new Promise<string>((resolve) => {
        ws.on('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve(Buffer.concat(chunks).toString());
            ws.close();
          });
        });
      });
      const error = next<[Error]>(ws, 'error');
      // Not next(): events.once() would reject with the 'error' that comes first.
      const close = within(new Promise((resolve) => ws.once('close', resolve)), `${impl.name}: 'close'`);
      assert.equal(await within(body, `${impl.name}: the body`), 'foo');
      const [err] = await error;
      assert.equal(err.message, 'WebSocket was closed before the connection was established', impl.name);
      await close;
      // Its socket is gone, so the server closes (close() waits for every connection).
      await within(new Promise((resolve) => server.close(resolve)), `${impl.name}: the server to close`);
    }
  });
});
