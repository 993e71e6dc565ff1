// The WHATWG WebSocket of undici (the one built into Node 22+; on Node 20 from the undici package) as
// a client of a wskit server: browser-shaped events, close codes, subprotocols, permessage-deflate.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import type { WebSocket, WebSocketServer } from '../../../src/index.js';
import { closeServer, next, recordClose, within, wskitServer } from '../../node/helpers.js';

/** The browser-shaped events undici dispatches (typed here: Node 20's types lack them). */
type Message<T = unknown> = Event & { readonly data: T };
type Close = Event & { readonly code: number; readonly reason: string; readonly wasClean: boolean };

/** Resolves with the first event of `type` that `target` dispatches, within the deadline. */
function event<T extends Event>(target: EventTarget, type: string, what = `a '${type}' event`): Promise<T> {
  return within(
    new Promise<T>((resolve) => target.addEventListener(type, (e) => resolve(e as T), { once: true })),
    what,
  );
}

describe('undici WebSocket client against a wskit server', () => {
  const servers: WebSocketServer[] = [];
  after(() => Promise.all(servers.map(closeServer)));

  /** A wskit server and an undici client connected to it. */
  async function open(
    serverOptions: Parameters<typeof wskitServer>[0] = {},
    protocols?: string | string[],
  ): Promise<{
    client: UndiciWebSocket;
    server: WebSocket;
    socket: { bytesRead: number; bytesWritten: number };
  }> {
    const { wss, url } = await wskitServer(serverOptions);
    servers.push(wss);
    const serverSide = next<[WebSocket, { socket: { bytesRead: number; bytesWritten: number } }]>(
      wss,
      'connection',
    );
    const client = new UndiciWebSocket(url, protocols);
    await event(client, 'open');
    const [server, req] = await serverSide;
    return { client, server, socket: req.socket };
  }

  it('opens, and carries text both ways as strings', async () => {
    const { client, server } = await open();
    assert.equal(client.readyState, UndiciWebSocket.OPEN);
    assert.equal(client.protocol, '');
    assert.equal(client.extensions, '');
    const atServer = next<[Buffer, boolean]>(server, 'message');
    client.send('héllo');
    const [data, isBinary] = await atServer;
    assert.equal(isBinary, false);
    assert.equal(data.toString(), 'héllo');
    const atClient = event<Message>(client, 'message');
    server.send('wörld');
    assert.equal((await atClient).data, 'wörld');
    client.close();
  });

  it('carries binary both ways: ArrayBuffer, typed array and Blob out, ArrayBuffer and Blob in', async () => {
    const { client, server } = await open();
    const received: { data: Buffer; isBinary: boolean }[] = [];
    server.on('message', (data: Buffer, isBinary: boolean) => received.push({ data, isBinary }));
    const three = new Promise((resolve) => server.on('message', () => received.length === 3 && resolve(0)));
    client.send(new Uint8Array([1, 2, 3]).buffer);
    client.send(new Uint16Array([0xffff]));
    client.send(new Blob([new Uint8Array([250, 251])]));
    await within(three, 'three binary messages at the server');
    assert.deepEqual(
      received.map(({ data, isBinary }) => [isBinary, [...data]]),
      [
        [true, [1, 2, 3]],
        [true, [255, 255]],
        [true, [250, 251]],
      ],
    );
    assert.equal(client.binaryType, 'blob');
    const asBlob = event<Message<Blob>>(client, 'message');
    server.send(Buffer.from([7, 8, 9]));
    const blob = (await asBlob).data;
    assert.ok(blob instanceof Blob);
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [7, 8, 9]);
    client.binaryType = 'arraybuffer';
    const asArrayBuffer = event<Message<ArrayBuffer>>(client, 'message');
    server.send(new Uint8Array([4, 5]), { binary: true });
    assert.deepEqual([...new Uint8Array((await asArrayBuffer).data)], [4, 5]);
    client.close();
  });

  it('gets the close code and reason the server gives', async () => {
    const { client, server } = await open();
    const closed = event<Close>(client, 'close');
    const serverClosed = recordClose(server);
    server.close(4001, 'server says bye');
    const e = await closed;
    assert.deepEqual([e.code, e.reason, e.wasClean], [4001, 'server says bye', true]);
    // undici echoes the code without the reason (as it does to ws): the server reports the echo.
    assert.deepEqual(await serverClosed, { code: 4001, reason: '' });
  });

  it('gives the server its close code and reason', async () => {
    const { client, server } = await open();
    const serverClosed = recordClose(server);
    const closed = event<Close>(client, 'close');
    client.close(4002, 'client says bye');
    assert.deepEqual(await serverClosed, { code: 4002, reason: 'client says bye' });
    const e = await closed;
    assert.deepEqual([e.code, e.reason, e.wasClean], [4002, 'client says bye', true]);
  });

  it('reports 1006 when the server terminates the connection', async () => {
    const { client, server } = await open();
    const closed = event<Close>(client, 'close');
    server.terminate();
    const e = await closed;
    assert.deepEqual([e.code, e.wasClean], [1006, false]);
  });

  it('answers the server’s pings', async () => {
    const { client, server } = await open();
    const pong = next<[Buffer]>(server, 'pong');
    server.ping(Buffer.from('are you there'));
    assert.equal((await pong)[0].toString(), 'are you there');
    client.close();
  });

  it('agrees on the subprotocol the server picks', async () => {
    const { client, server } = await open(
      { handleProtocols: (offered) => (offered.has('v2') ? 'v2' : false) },
      ['v1', 'v2'],
    );
    assert.equal(client.protocol, 'v2');
    assert.equal(server.protocol, 'v2');
    client.close();
  });

  it('negotiates permessage-deflate and inflates what the server compresses', async () => {
    const { client, server, socket } = await open({ perMessageDeflate: { threshold: 0 } });
    assert.match(client.extensions, /^permessage-deflate/);
    assert.match(server.extensions, /permessage-deflate/);
    const big = 'wskit '.repeat(20_000);
    const written = socket.bytesWritten;
    const atClient = event<Message>(client, 'message');
    server.send(big);
    assert.equal((await atClient).data, big);
    const wire = socket.bytesWritten - written;
    assert.ok(wire < big.length / 20, `${big.length} bytes went out compressed (${wire} on the wire)`);
    // undici 7 inflates but does not compress what it sends: its message arrives as it was.
    const atServer = next<[Buffer]>(server, 'message');
    client.send(big);
    assert.equal((await atServer)[0].toString(), big);
    client.close();
  });
});
