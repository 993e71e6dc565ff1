// Socket.IO on wskit: engine.io's `wsEngine` option set to wskit's WebSocketServer, driven by
// socket.io-client (which uses ws in Node), both on the websocket transport alone and upgrading
// from HTTP long-polling.
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { WebSocket as WsWebSocket } from 'ws';
import { WebSocket, WebSocketServer } from '../../../src/index.js';
import { closeHttp, next, portOf, within } from '../../node/helpers.js';

/** The arguments of a socket.io-client Socket's next `event` (it is no Node EventEmitter). */
function nextOf<T extends unknown[]>(socket: Socket, event: string): Promise<T> {
  return within(
    new Promise<T>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T))),
    `'${event}'`,
  );
}

/** The wskit connection under a Socket.IO server socket, when it is on the websocket transport. */
function wsOf(socket: ServerSocket): unknown {
  return (socket.conn.transport as unknown as { socket?: unknown }).socket;
}

describe('Socket.IO with wsEngine: wskit', () => {
  let http: HttpServer;
  let ioServer: Server;
  let url: string;
  const clients: Socket[] = [];

  before(async () => {
    http = createServer();
    ioServer = new Server(http, { wsEngine: WebSocketServer });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    url = `http://127.0.0.1:${portOf(http)}`;
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await new Promise<void>((resolve) => ioServer.close(() => resolve()));
    await closeHttp(http).catch(() => {});
  });

  /** A client connected on the websocket transport alone; resolves with both ends. */
  async function open(
    options: Partial<ManagerOptions & SocketOptions> = { transports: ['websocket'] },
  ): Promise<{ client: Socket; server: ServerSocket }> {
    const serverSide = next<[ServerSocket]>(ioServer, 'connection');
    const client = connect(url, { forceNew: true, reconnection: false, ...options });
    clients.push(client);
    await nextOf(client, 'connect');
    const [server] = await serverSide;
    return { client, server };
  }

  it('connects on the websocket transport, the server end being a wskit WebSocket', async () => {
    const { client, server } = await open();
    assert.equal(client.io.engine.transport.name, 'websocket');
    assert.equal(server.conn.transport.name, 'websocket');
    assert.ok(wsOf(server) instanceof WebSocket, 'engine.io used the wsEngine it was given');
    assert.equal(server.id, client.id);
    // engine.io reads the address from the wsEngine connection's _socket, as ws has it.
    assert.equal(server.handshake.address, '127.0.0.1');
    client.disconnect();
  });

  it('upgrades from polling to websocket, then carries events', async () => {
    const engineSide = new Promise<{ initial: string; upgraded: Promise<unknown> }>((resolve) => {
      ioServer.engine.once('connection', (conn: ServerSocket['conn']) => {
        resolve({ initial: conn.transport.name, upgraded: next(conn, 'upgrade') });
      });
    });
    const { client, server } = await open({ transports: ['polling', 'websocket'] });
    const { initial, upgraded } = await engineSide;
    assert.equal(initial, 'polling');
    await upgraded;
    assert.equal(server.conn.transport.name, 'websocket');
    assert.equal(client.io.engine.transport.name, 'websocket');
    assert.ok(wsOf(server) instanceof WebSocket);
    const got = next<[string]>(server, 'after-upgrade');
    client.emit('after-upgrade', 'über');
    assert.deepEqual(await got, ['über']);
    client.disconnect();
  });

  it('acknowledges emits both ways', async () => {
    const { client, server } = await open();
    server.on('add', (a: number, b: number, ack: (sum: number) => void) => ack(a + b));
    assert.equal(await within(client.emitWithAck('add', 2, 40), 'the server ack'), 42);
    client.on('greet', (name: string, ack: (reply: string) => void) => ack(`hello ${name}`));
    assert.equal(await server.timeout(5_000).emitWithAck('greet', 'wskit'), 'hello wskit');
    client.disconnect();
  });

  it('broadcasts to a room only its members, and to everyone', async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    a.server.join('room');
    b.server.join('room');
    const received = (client: Socket) => {
      const log: string[] = [];
      client.onAny((event: string, value: string) => log.push(`${event}:${value}`));
      return log;
    };
    const logs = [received(a.client), received(b.client), received(c.client)];
    const done = Promise.all([a, b, c].map(({ client }) => nextOf(client, 'all')));
    ioServer.to('room').emit('news', 'for the room');
    ioServer.emit('all', 'for everyone');
    await done;
    assert.deepEqual(logs[0], ['news:for the room', 'all:for everyone']);
    assert.deepEqual(logs[1], ['news:for the room', 'all:for everyone']);
    assert.deepEqual(logs[2], ['all:for everyone']);
    for (const { client } of [a, b, c]) client.disconnect();
  });

  it("broadcasts take engine.io's pre-framed path: ws's Sender.frame() once, _sender.sendFrame() per socket", async () => {
    const a = await open();
    const b = await open();
    const frames: Buffer[][] = [];
    for (const { server } of [a, b]) {
      const ws = wsOf(server) as { _sender: { sendFrame(list: Buffer[], cb?: () => void): void } };
      const sender = ws._sender;
      assert.equal(typeof sender.sendFrame, 'function');
      // Record what the fast path is given, on these two sockets only.
      Object.defineProperty(ws, '_sender', {
        configurable: true,
        get: () => ({
          sendFrame: (list: Buffer[], cb?: () => void) => {
            frames.push(list);
            sender.sendFrame(list, cb);
          },
        }),
      });
    }
    const done = Promise.all([a, b].map(({ client }) => nextOf<[string]>(client, 'pre')));
    ioServer.emit('pre', 'framed once');
    assert.deepEqual(
      (await done).map(([v]) => v),
      ['framed once', 'framed once'],
    );
    assert.equal(frames.length, 2, 'each socket was given the pre-built frame');
    assert.equal(frames[0], frames[1], 'the same frame object for both');
    for (const { client } of [a, b]) client.disconnect();
  });

  it('carries binary payloads, alone and inside objects', async () => {
    const { client, server } = await open();
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const atServer = next<[Buffer, { nested: Buffer; n: number }]>(server, 'bin');
    client.emit('bin', bytes, { nested: Buffer.from('nested'), n: 7 });
    const [alone, wrapped] = await atServer;
    assert.ok(Buffer.isBuffer(alone));
    assert.deepEqual(alone, bytes);
    assert.deepEqual(wrapped.nested, Buffer.from('nested'));
    assert.equal(wrapped.n, 7);
    const atClient = nextOf<[ArrayBuffer | Buffer, { parts: (ArrayBuffer | Buffer)[] }]>(client, 'bin-back');
    server.emit('bin-back', new Uint8Array([9, 8, 7]), {
      parts: [Buffer.alloc(70_000, 1), Buffer.from('x')],
    });
    const [first, { parts }] = await atClient;
    assert.deepEqual([...new Uint8Array(first)], [9, 8, 7]);
    assert.equal(parts[0].byteLength, 70_000);
    assert.ok(new Uint8Array(parts[0]).every((v) => v === 1));
    assert.equal(Buffer.from(new Uint8Array(parts[1])).toString(), 'x');
    client.disconnect();
  });

  it('reports the disconnect reasons', async () => {
    const byServer = await open();
    const clientSaw = nextOf<[string]>(byServer.client, 'disconnect');
    byServer.server.disconnect(true);
    assert.equal((await clientSaw)[0], 'io server disconnect');

    const byClient = await open();
    const serverSaw = next<[string]>(byClient.server, 'disconnect');
    byClient.client.disconnect();
    assert.equal((await serverSaw)[0], 'client namespace disconnect');

    // The client's WebSocket closes without a Socket.IO goodbye: the server sees its transport close.
    const byTransport = await open();
    const transportSaw = next<[string]>(byTransport.server, 'disconnect');
    byTransport.client.io.engine.close();
    assert.equal((await transportSaw)[0], 'transport close');

    // The server's wskit WebSocket closes under engine.io: the client sees its transport close.
    const byServerSocket = await open();
    const closedSaw = nextOf<[string]>(byServerSocket.client, 'disconnect');
    (wsOf(byServerSocket.server) as WebSocket).close(1000);
    assert.equal((await closedSaw)[0], 'transport close');
  });
});

describe('Socket.IO with wsEngine: wskit and perMessageDeflate', () => {
  it('negotiates permessage-deflate through engine.io and compresses large packets', async () => {
    const http = createServer();
    const ioServer = new Server(http, { wsEngine: WebSocketServer, perMessageDeflate: { threshold: 1024 } });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    const serverSide = next<[ServerSocket]>(ioServer, 'connection');
    const client = connect(`http://127.0.0.1:${portOf(http)}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    try {
      const [server] = await serverSide;
      const ws = wsOf(server) as WebSocket;
      assert.ok(ws instanceof WebSocket);
      assert.match(ws.extensions, /permessage-deflate/);
      const tcp = server.conn.request.socket;
      const written = tcp.bytesWritten;
      const big = 'compressible '.repeat(10_000);
      const got = nextOf<[string]>(client, 'big');
      server.emit('big', big);
      assert.equal((await got)[0], big);
      const wire = tcp.bytesWritten - written;
      assert.ok(wire < big.length / 10, `${big.length} characters sent as ${wire} bytes`);
    } finally {
      client.disconnect();
      await new Promise<void>((resolve) => ioServer.close(() => resolve()));
    }
  });
});

describe("Socket.IO with wsEngine: wskit, headers on the 101 (engine.io's 'headers' hook)", () => {
  it("adds what engine.io's initial_headers and headers listeners set to the upgrade response", async () => {
    const http = createServer();
    const ioServer = new Server(http, { wsEngine: WebSocketServer });
    ioServer.engine.on('initial_headers', (headers: Record<string, string>) => {
      headers['x-initial'] = 'wskit';
    });
    ioServer.engine.on('headers', (headers: Record<string, string>, req: IncomingMessage) => {
      headers['x-path'] = new URL(req.url ?? '/', 'http://localhost').pathname;
    });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    const ws = new WsWebSocket(`ws://127.0.0.1:${portOf(http)}/socket.io/?EIO=4&transport=websocket`);
    // engine.io's open packet may come in the same read as the 101: listen for both from the start.
    const upgraded = next<[IncomingMessage]>(ws, 'upgrade');
    const opened = next<[Buffer]>(ws, 'message');
    try {
      const [response] = await upgraded;
      assert.equal(response.headers['x-initial'], 'wskit');
      assert.equal(response.headers['x-path'], '/socket.io/');
      // Then engine.io's open packet, over the connection wskit upgraded.
      const [open] = await opened;
      assert.match(open.toString(), /^0\{"sid":/);
    } finally {
      ws.terminate();
      await new Promise<void>((resolve) => ioServer.close(() => resolve()));
    }
  });
});
