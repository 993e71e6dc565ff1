// Timers that keep a misbehaving peer from holding a connection open: closeTimeout (the peer never
// finishes the closing handshake) and the server's handshakeTimeout (the opening handshake never ends).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  acceptFor,
  client,
  closeRawServer,
  connected,
  defer,
  keyOf,
  next,
  rawConnect,
  rawServer,
  rawWebSocket,
  readAll,
  recordClose,
  runCleanups,
  serve,
  serverFrames,
  WebSocket,
  within,
} from './helpers.js';

afterEach(runCleanups);

/** A raw server that completes the opening handshake, then does what `after` says (or nothing). */
async function silentServer(after: (socket: import('node:net').Socket) => void = () => {}) {
  const raw = await rawServer((request, socket) => {
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n\r\n`,
    );
    after(socket);
  });
  defer(() => closeRawServer(raw));
  return raw;
}

describe('closeTimeout', () => {
  it('server: a client that never answers the Close is cut off after closeTimeout (1006)', async () => {
    const s = await serve({ closeTimeout: 100, heartbeat: false });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    const received = readAll(socket);
    const [peer] = await connection;
    let wasClean: boolean | undefined;
    peer.onclose = (e: { wasClean: boolean }) => {
      wasClean = e.wasClean;
    };
    const closed = recordClose(peer);
    const started = Date.now();
    peer.close(1000, 'bye');
    assert.equal(peer.readyState, WebSocket.CLOSING);
    assert.deepEqual(await closed, { code: 1006, reason: '' });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90, `closed after ${elapsed} ms, before the timeout`);
    assert.equal(wasClean, false);
    // The client got the Close frame before the connection was cut.
    const frames = serverFrames(await received);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, 0x8);
    assert.equal(frames[0].payload.readUInt16BE(0), 1000);
    assert.equal(frames[0].payload.subarray(2).toString(), 'bye');
  });

  it('client: a server that never answers the Close is cut off after closeTimeout (1006)', async () => {
    const raw = await silentServer();
    const ws = client(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 100 });
    await next(ws, 'open');
    const closed = recordClose(ws);
    const started = Date.now();
    ws.close(1000);
    assert.deepEqual(await closed, { code: 1006, reason: '' });
    assert.ok(Date.now() - started >= 90);
  });

  it('client: a server that answers the Close but keeps TCP open is cut off; the close was clean', async () => {
    const raw = await silentServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        // The client's Close frame (masked): answer with an unmasked Close 1000, keep the socket open.
        if ((chunk[0] & 0x0f) === 0x8) socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
      });
    });
    const ws = client(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 100 });
    await next(ws, 'open');
    let wasClean: boolean | undefined;
    ws.onclose = (e: { wasClean: boolean }) => {
      wasClean = e.wasClean;
    };
    const closed = recordClose(ws);
    ws.close(1000);
    assert.deepEqual(await closed, { code: 1000, reason: '' });
    assert.equal(wasClean, true);
  });

  it('the default does not cut off a peer that closes properly', async () => {
    const s = await serve({ closeTimeout: 100 });
    const { ws, peer } = await connected(s);
    const atServer = recordClose(peer);
    const atClient = recordClose(ws);
    ws.close(4000, 'fine');
    assert.deepEqual(await atServer, { code: 4000, reason: 'fine' });
    assert.deepEqual(await atClient, { code: 4000, reason: 'fine' });
  });
});

describe('server.close()', () => {
  it('a client that never answers the 1001 Close is terminated after closeTimeout, then close is emitted', async () => {
    const s = await serve({ closeTimeout: 100, heartbeat: false });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    const received = readAll(socket);
    const [peer] = await connection;
    const peerClosed = recordClose(peer);
    const started = Date.now();
    const serverClosed = next(s.wss, 'close');
    s.wss.close();
    await serverClosed;
    assert.ok(Date.now() - started >= 90, 'waited for the client');
    assert.equal((await peerClosed).code, 1006);
    const frames = serverFrames(await received);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, 0x8);
    assert.equal(frames[0].payload.readUInt16BE(0), 1001);
  });
});

describe('server handshakeTimeout', () => {
  it('a client that sends half a request is answered 408 and dropped', async () => {
    const s = await serve({ handshakeTimeout: 100 });
    const socket = await rawConnect(s.port);
    defer(() => socket.destroy());
    const response = readAll(socket);
    const started = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    const text = (await response).toString('latin1');
    const elapsed = Date.now() - started;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(elapsed >= 90, `dropped after ${elapsed} ms`);
    // The server is still fine.
    await connected(s);
  });

  it('a connection that sends nothing is dropped too', async () => {
    const s = await serve({ handshakeTimeout: 100 });
    const socket = await rawConnect(s.port);
    defer(() => socket.destroy());
    const text = (await readAll(socket)).toString('latin1');
    assert.ok(text === '' || text.startsWith('HTTP/1.1 408 '), text);
  });

  it('a verifyClient that never calls back: 408 after handshakeTimeout', async () => {
    const s = await serve({ handshakeTimeout: 100, verifyClient: (_info: unknown, _cb: unknown) => {} });
    const ws = client(s.url);
    const [, res] = await next<[unknown, { statusCode: number }]>(ws, 'unexpected-response');
    assert.equal(res.statusCode, 408);
  });

  it('a handshake still pending when the server closes is answered at once, 503 (not left to its deadline)', async () => {
    let verifying!: () => void;
    const held = new Promise<void>((resolve) => {
      verifying = resolve;
    });
    // verifyClient never calls back: the handshake would wait until its deadline (10 s).
    const s = await serve({
      handshakeTimeout: 10_000,
      verifyClient: (_info: unknown, _cb: unknown) => verifying(),
    });
    const ws = client(s.url);
    const response = next<[unknown, { statusCode: number }]>(ws, 'unexpected-response');
    await held;
    s.wss.close();
    const [, res] = await response;
    assert.equal(res.statusCode, 503);
  });

  it('a completed handshake is not cut off by the timer', async () => {
    const s = await serve({ handshakeTimeout: 50 });
    const { ws, peer } = await connected(s);
    // The client's heartbeat marks time: two answered pings take well over 50 ms. Its timeout is
    // generous (a loaded machine may answer a ping late, and a terminated client would see no pongs),
    // and the wait fails rather than hangs if the connection ends.
    const clientHb = await connected(s, '', { heartbeat: { interval: 30, timeout: 5_000 } });
    const twoPongs = new Promise<void>((resolve, reject) => {
      let pongs = 0;
      clientHb.ws.on('pong', () => ++pongs === 2 && resolve());
      clientHb.ws.once('close', (code: number) =>
        reject(new Error(`the client closed (${code}) before two pongs`)),
      );
    });
    await within(twoPongs, 'two pongs');
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(peer.readyState, WebSocket.OPEN);
  });
});
