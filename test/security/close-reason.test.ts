// SECURITY.md, "close() and ping() with typed arrays" (the class of ws's bug where a close reason
// given as a TypedArray was measured in bytes but copied element by element into a buffer allocated
// unsafely: the Close frame then carried uninitialised memory to the peer). wskit measures and
// copies the bytes of any ArrayBufferView, or refuses with WS_ERR_INVALID_ARGUMENT; never a
// TypeError, never a frame over 125 bytes, never a byte that was not the caller's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketError, type WebSocketServer } from '../../src/index.js';
import { next, serve, within } from './helpers.js';

async function pair(wss: WebSocketServer, url: string): Promise<{ server: WebSocket; client: WebSocket }> {
  const accepted = next<[WebSocket]>(wss, 'connection');
  const client = new WebSocket(url);
  await next(client, 'open');
  const [server] = await accepted;
  return { server, client };
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: Buffer }> {
  return within(
    new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason }))),
    "a 'close' event",
  );
}

/** A typed array over the bytes of `text` (ASCII: a close reason must be UTF-8 for the peer to accept it). */
function over<T>(View: new (buffer: ArrayBuffer) => T, text: string): T {
  const bytes = Buffer.from(text);
  return new View(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
}

/** The bytes of a view, as the platform lays them out. */
function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function invalidArgument(error: unknown): boolean {
  return error instanceof WebSocketError && error.code === 'WS_ERR_INVALID_ARGUMENT';
}

describe('close() and ping() with typed arrays', () => {
  const reasons: [string, () => ArrayBufferView][] = [
    ['a Uint8Array', () => new Uint8Array([0x62, 0x79, 0x65])],
    ['a Uint16Array (2 bytes an element)', () => over(Uint16Array, 'hi!!')],
    ['a Float64Array', () => over(Float64Array, 'eight by')],
    ['a DataView', () => over(DataView, 'ok')],
    [
      'a view into the middle of a larger buffer',
      () => new Uint8Array(Buffer.from('xxxxmiddleyyyy').buffer, 4, 6),
    ],
  ];
  for (const [name, make] of reasons) {
    it(`close(1000, ${name}): the peer receives exactly its bytes`, async () => {
      const { wss, url } = await serve();
      const { server, client } = await pair(wss, url);
      const reason = make();
      const received = closeOf(client);
      server.close(1000, reason as unknown as Buffer);
      const { code, reason: got } = await received;
      assert.equal(code, 1000);
      assert.deepEqual(got, bytesOf(reason));
    });
  }

  it('close(1000, Uint16Array(62)): 124 bytes, refused with WS_ERR_INVALID_ARGUMENT; the connection stays usable', async () => {
    const { wss, url } = await serve();
    const { server, client } = await pair(wss, url);
    assert.throws(() => server.close(1000, new Uint16Array(62) as unknown as Buffer), invalidArgument);
    assert.equal(server.readyState, WebSocket.OPEN);
    const echoed = next<[Buffer]>(client, 'message');
    server.send('still open');
    assert.equal(String((await echoed)[0]), 'still open');
    const received = closeOf(client);
    server.close(1000, 'done');
    assert.equal((await received).code, 1000);
  });

  it('close(1000, Uint16Array(61)): 122 bytes, sent (the limit is counted in bytes, not elements)', async () => {
    const { wss, url } = await serve();
    const { server, client } = await pair(wss, url);
    const reason = new Uint16Array(61).fill(0x4141);
    const received = closeOf(client);
    server.close(1000, reason as unknown as Buffer);
    assert.deepEqual((await received).reason, Buffer.alloc(122, 0x41));
  });

  it('close() with a reason that is not text or bytes: WS_ERR_INVALID_ARGUMENT, not a TypeError', async () => {
    const { wss, url } = await serve();
    const { server } = await pair(wss, url);
    for (const reason of [{}, 42, null, [1, 2]]) {
      assert.throws(() => server.close(1000, reason as unknown as Buffer), invalidArgument, String(reason));
    }
    assert.equal(server.readyState, WebSocket.OPEN);
  });

  it('ping(Uint16Array(63)): 126 bytes, refused; ping(Uint16Array(62)): its 124 bytes arrive', async () => {
    const { wss, url } = await serve();
    const { server, client } = await pair(wss, url);
    assert.throws(() => server.ping(new Uint16Array(63)), invalidArgument);
    const data = new Uint16Array(62).map((_, i) => i * 257);
    const pinged = next<[Buffer]>(client, 'ping');
    server.ping(data);
    assert.deepEqual((await pinged)[0], bytesOf(data));
  });

  it('ping(50) and send(50): the text "50", never 50 bytes of uninitialised memory (CVE-2016-10518 class)', async () => {
    const { wss, url } = await serve();
    const { server, client } = await pair(wss, url);
    const pinged = next<[Buffer]>(client, 'ping');
    server.ping(50 as unknown as Buffer);
    assert.deepEqual((await pinged)[0], Buffer.from('50'));
    const received = next<[Buffer, boolean]>(client, 'message');
    server.send(50 as unknown as string);
    const [data, isBinary] = await received;
    assert.equal(String(data), '50');
    assert.equal(isBinary, false);
  });

  it('client side too: close(4000, Float64Array) sends its 8 bytes', async () => {
    const { wss, url } = await serve();
    const { server, client } = await pair(wss, url);
    const reason = over(Float64Array, 'see you!');
    const received = closeOf(server);
    client.close(4000, reason as unknown as Buffer);
    const { code, reason: got } = await received;
    assert.equal(code, 4000);
    assert.deepEqual(got, bytesOf(reason));
  });
});
