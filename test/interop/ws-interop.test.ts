// wskit against ws, both ways round: a wskit server with a ws client, and a ws server with a wskit
// client. Every message shape, control frame and close path must look the same from both ends.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { after, describe, it } from 'node:test';
import {
  type CloseInfo,
  closeServer,
  next,
  recordClose,
  terminate,
  WebSocket,
  type WebSocketServer,
  type WsServer,
  WsWebSocket,
  within,
  wskitServer,
  wsServer,
} from '../node/helpers.js';

/** What the tests need of a WebSocket; wskit's and ws's both fit. */
type Socket = EventEmitter & {
  readyState: number;
  send(data: unknown, options?: unknown, cb?: (err?: Error | null) => void): void;
  ping(data?: unknown): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  onclose: unknown;
  _socket: { write(data: Buffer): void } | null;
};

interface Pair {
  server: Socket;
  client: Socket;
  wss: WebSocketServer | WsServer;
}

interface Direction {
  name: string;
  /** Which library each end is. */
  serverLib: 'wskit' | 'ws';
  clientLib: 'wskit' | 'ws';
  connect(serverOptions?: object, clientOptions?: object): Promise<Pair>;
}

async function connectWith(
  wss: WebSocketServer | WsServer,
  url: string,
  Client: typeof WebSocket | typeof WsWebSocket,
  clientOptions: object,
): Promise<Pair> {
  const serverSide = next<[Socket]>(wss as EventEmitter, 'connection');
  const client = new (Client as typeof WebSocket)(url, clientOptions) as unknown as Socket;
  await next(client, 'open');
  const [server] = await serverSide;
  return { server, client, wss };
}

const directions: Direction[] = [
  {
    name: 'wskit server ↔ ws client',
    serverLib: 'wskit',
    clientLib: 'ws',
    async connect(serverOptions = {}, clientOptions = {}) {
      const { wss, url } = await wskitServer(serverOptions);
      return connectWith(wss, url, WsWebSocket, clientOptions);
    },
  },
  {
    name: 'ws server ↔ wskit client',
    serverLib: 'ws',
    clientLib: 'wskit',
    async connect(serverOptions = {}, clientOptions = {}) {
      const { wss, url } = await wsServer(serverOptions);
      return connectWith(wss, url, WebSocket, clientOptions);
    },
  },
];

/** The next message a socket receives, as [data, isBinary]. */
async function message(ws: Socket, ms?: number): Promise<[unknown, boolean]> {
  return next<[unknown, boolean]>(ws, 'message', ms);
}

/** 'close' plus wasClean from the browser-style onclose, recorded from now on. */
function recordCloseEvent(ws: Socket): Promise<CloseInfo & { wasClean: boolean }> {
  return within(
    new Promise((resolve) => {
      ws.onclose = (event: { code: number; reason: string; wasClean: boolean }) =>
        resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    }),
    'a CloseEvent',
  );
}

const TEXT = 'héllo wörld · Ελληνικά · 日本語 · 😀🎉 · 𝄞';

for (const dir of directions) {
  describe(dir.name, () => {
    const pairs: Pair[] = [];
    const open = async (serverOptions?: object, clientOptions?: object) => {
      const pair = await dir.connect(serverOptions, clientOptions);
      pairs.push(pair);
      return pair;
    };
    after(async () => {
      for (const p of pairs) {
        terminate(p.client as unknown as WebSocket);
        await closeServer(p.wss);
      }
    });

    it('carries multi-byte UTF-8 text both ways, 4-byte emoji included', async () => {
      const { server, client } = await open();
      const atServer = message(server);
      client.send(TEXT);
      const [data, isBinary] = await atServer;
      assert.equal(isBinary, false);
      assert.equal(String(data), TEXT);
      assert.ok(Buffer.isBuffer(data), 'text arrives as a Buffer in the ws API');

      const atClient = message(client);
      server.send(TEXT);
      const [back, backBinary] = await atClient;
      assert.equal(backBinary, false);
      assert.equal(String(back), TEXT);
    });

    const sizes = [0, 1, 125, 126, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024];
    for (const size of sizes) {
      it(`carries a ${size}-byte binary message both ways`, async () => {
        const { server, client } = await open();
        const payload = size <= 65536 ? randomBytes(size) : Buffer.alloc(size);
        if (size > 65536) for (let i = 0; i < size; i += 4096) payload.writeUInt32BE(i, i);
        const atServer = message(server, 20_000);
        client.send(payload);
        const [data, isBinary] = await atServer;
        assert.equal(isBinary, true);
        assert.ok(Buffer.isBuffer(data));
        assert.equal((data as Buffer).length, size);
        assert.ok(payload.equals(data as Buffer), 'client → server payload intact');

        const atClient = message(client, 20_000);
        server.send(payload);
        const [back, backBinary] = await atClient;
        assert.equal(backBinary, true);
        assert.equal((back as Buffer).length, size);
        assert.ok(payload.equals(back as Buffer), 'server → client payload intact');
      });
    }

    it('carries a text message sent in parts (fin: false), a character split between parts', async () => {
      const { server, client } = await open();
      const bytes = Buffer.from('Hello, 😀 world');
      const split = bytes.indexOf(Buffer.from('😀')) + 2; // in the middle of the 4-byte emoji
      for (const [sender, receiver] of [
        [client, server],
        [server, client],
      ] as const) {
        const received = message(receiver);
        sender.send(bytes.subarray(0, 3), { binary: false, fin: false });
        sender.send(bytes.subarray(3, split), { binary: false, fin: false });
        sender.send(bytes.subarray(split), { binary: false, fin: true });
        const [data, isBinary] = await received;
        assert.equal(isBinary, false);
        assert.equal(String(data), 'Hello, 😀 world');
      }
    });

    it('carries a binary message sent in parts (fin: false), an empty part included', async () => {
      const { server, client } = await open();
      for (const [sender, receiver] of [
        [client, server],
        [server, client],
      ] as const) {
        const received = message(receiver);
        sender.send(Buffer.from([1, 2, 3]), { fin: false });
        sender.send(Buffer.alloc(0), { fin: false });
        sender.send(Buffer.from([4, 5]), { fin: true });
        const [data, isBinary] = await received;
        assert.equal(isBinary, true);
        assert.deepEqual([...(data as Buffer)], [1, 2, 3, 4, 5]);
      }
    });

    it('a ping between the parts of a message is answered, and the message arrives whole', async () => {
      const { server, client } = await open();
      for (const [sender, receiver] of [
        [client, server],
        [server, client],
      ] as const) {
        const received = message(receiver);
        const pinged = next<[Buffer]>(receiver, 'ping');
        const ponged = next<[Buffer]>(sender, 'pong');
        sender.send('first half, ', { fin: false });
        sender.ping('in between');
        sender.send('second half', { fin: true });
        assert.equal((await pinged)[0].toString(), 'in between');
        assert.equal((await ponged)[0].toString(), 'in between');
        assert.equal(String((await received)[0]), 'first half, second half');
      }
    });

    it('a close in the middle of a message sent in parts ends the connection cleanly', async () => {
      const { server, client } = await open();
      let delivered = false;
      server.on('message', () => {
        delivered = true;
      });
      const atServer = recordCloseEvent(server);
      const atClient = recordCloseEvent(client);
      client.send('never finished', { fin: false });
      client.close(1000, 'changed my mind');
      assert.deepEqual(await atServer, { code: 1000, reason: 'changed my mind', wasClean: true });
      assert.deepEqual(await atClient, { code: 1000, reason: 'changed my mind', wasClean: true });
      assert.equal(delivered, false);
    });

    it('keeps the order of many small messages sent in one tick', async () => {
      const { server, client } = await open();
      const got: string[] = [];
      const all = new Promise<void>((resolve) => {
        server.on('message', (data: Buffer) => {
          got.push(data.toString());
          if (got.length === 500) resolve();
        });
      });
      for (let i = 0; i < 500; i++) client.send(`m${i}`);
      await within(all, '500 messages');
      assert.deepEqual(
        got,
        Array.from({ length: 500 }, (_, i) => `m${i}`),
      );
    });

    it('pings from the server: the client sees the payload, the server gets the pong', async () => {
      const { server, client } = await open();
      const ping = next<[Buffer]>(client, 'ping');
      const pong = next<[Buffer]>(server, 'pong');
      server.ping(Buffer.from('server ping ✓'));
      assert.equal((await ping)[0].toString(), 'server ping ✓');
      assert.equal((await pong)[0].toString(), 'server ping ✓');
    });

    it('pings from the client: the server sees the payload, the client gets the pong', async () => {
      const { server, client } = await open();
      const ping = next<[Buffer]>(server, 'ping');
      const pong = next<[Buffer]>(client, 'pong');
      const payload = Buffer.alloc(125, 0x61);
      client.ping(payload);
      assert.ok((await ping)[0].equals(payload));
      assert.ok((await pong)[0].equals(payload));
    });

    it('pings with an empty payload', async () => {
      const { server, client } = await open();
      const pong = next<[Buffer]>(client, 'pong');
      client.ping();
      assert.equal((await pong)[0].length, 0);
      const pong2 = next<[Buffer]>(server, 'pong');
      server.ping();
      assert.equal((await pong2)[0].length, 0);
    });

    it('client-initiated close with a code and a reason: both sides see them, cleanly', async () => {
      const { server, client } = await open();
      const atServer = recordCloseEvent(server);
      const atClient = recordCloseEvent(client);
      client.close(4000, 'bye ✓');
      assert.deepEqual(await atServer, { code: 4000, reason: 'bye ✓', wasClean: true });
      assert.deepEqual(await atClient, { code: 4000, reason: 'bye ✓', wasClean: true });
      assert.equal(server.readyState, 3);
      assert.equal(client.readyState, 3);
    });

    it('server-initiated close with a code and a reason: both sides see them, cleanly', async () => {
      const { server, client } = await open();
      const atServer = recordCloseEvent(server);
      const atClient = recordCloseEvent(client);
      server.close(1000, 'done');
      assert.deepEqual(await atClient, { code: 1000, reason: 'done', wasClean: true });
      assert.deepEqual(await atServer, { code: 1000, reason: 'done', wasClean: true });
    });

    for (const [name, side, how, code, wasClean] of [
      ['close without a code is 1005 on both sides', 'client', 'close', 1005, true],
      ['close from the server without a code is 1005 on both sides', 'server', 'close', 1005, true],
      ['terminate() by the client is 1006, not clean, on both sides', 'client', 'terminate', 1006, false],
      ['terminate() by the server is 1006, not clean, on both sides', 'server', 'terminate', 1006, false],
    ] as const) {
      it(name, async () => {
        const { server, client } = await open();
        const atServer = recordCloseEvent(server);
        const atClient = recordCloseEvent(client);
        const actor = side === 'client' ? client : server;
        if (how === 'close') actor.close();
        else actor.terminate();
        assert.deepEqual(await atServer, { code, reason: '', wasClean });
        assert.deepEqual(await atClient, { code, reason: '', wasClean });
      });
    }

    for (const culprit of ['client', 'server'] as const) {
      it(`garbage from the ${culprit} fails the connection with 1002 on both sides`, async () => {
        const pair = await open();
        const sender = pair[culprit];
        const receiver = culprit === 'client' ? pair.server : pair.client;
        const error = next<[Error & { code?: string }]>(receiver, 'error');
        const atReceiver = recordClose(receiver);
        const atSender = recordClose(sender);
        // RSV2 and RSV3 set, no extension negotiated: a protocol error whatever else follows.
        sender._socket!.write(Buffer.from([0xb2, 0x82, 0, 0, 0, 0, 0x41, 0x42]));
        const [err] = await error;
        assert.match(String(err.code), /^WS_ERR_/);
        assert.equal((await atSender).code, 1002);
        // The end that failed the connection received no Close: 1006 (RFC 6455 §7.1.5), in ws and wskit.
        assert.equal((await atReceiver).code, 1006);
        if (!(receiver instanceof WsWebSocket)) assert.equal((err as { closeCode?: number }).closeCode, 1002);
      });

      it(`a message over maxPayload from the ${culprit} is 1009 on both sides`, async () => {
        const limit = { maxPayload: 1000 };
        const pair = culprit === 'client' ? await open(limit, {}) : await open({}, { maxPayload: 1000 });
        const sender = pair[culprit];
        const receiver = culprit === 'client' ? pair.server : pair.client;
        const error = next<[Error & { code?: string }]>(receiver, 'error');
        const atReceiver = recordClose(receiver);
        const atSender = recordClose(sender);
        let delivered = false;
        receiver.on('message', () => {
          delivered = true;
        });
        sender.send(Buffer.alloc(1000)); // exactly the limit: fine
        sender.send(Buffer.alloc(1001));
        const [err] = await error;
        assert.equal(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
        assert.equal((await atSender).code, 1009);
        assert.equal((await atReceiver).code, 1006);
        if (!(receiver instanceof WsWebSocket)) assert.equal((err as { closeCode?: number }).closeCode, 1009);
        assert.equal(delivered, true, 'the message at the limit was delivered');
      });
    }

    if (dir.serverLib === 'wskit') {
      it('server.close() closes every client with 1001, then emits close', async () => {
        const pair = await open();
        const wss = pair.wss as WebSocketServer;
        const second = new WsWebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
        await next(second, 'open');
        const first = recordClose(pair.client);
        const other = recordClose(second);
        const serverSide = recordClose(pair.server);
        const serverClosed = next(wss, 'close');
        let callback = false;
        wss.close(() => {
          callback = true;
        });
        assert.deepEqual(await first, { code: 1001, reason: 'Server shutting down' });
        assert.deepEqual(await other, { code: 1001, reason: 'Server shutting down' });
        assert.equal((await serverSide).code, 1001);
        await serverClosed;
        assert.equal(callback, true);
        assert.equal(wss.clients.size, 0);
      });
    }
  });
}
