// The WebSocket object as ws users use it: readyState and its constants, send() with every data type
// and its callback, send() before open and after close, bufferedAmount, binaryType, the browser-style
// events (addEventListener, on*), pause()/resume(), createWebSocketStream and async iteration.
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, it } from 'node:test';
import { CloseEvent, createWebSocketStream, ErrorEvent, Event, MessageEvent } from '../../src/index.js';
import {
  client,
  closeRawServer,
  connected,
  defer,
  next,
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

/** A server whose connections echo every message back with its type. */
async function echoServer() {
  const s = await serve();
  s.wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return s;
}

function sent(ws: WebSocket, data: Parameters<WebSocket['send']>[0], options?: object): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (options === undefined) ws.send(data, cb);
      else ws.send(data, options, cb);
    }),
    'the send callback',
  );
}

describe('readyState', () => {
  it('goes CONNECTING → OPEN → CLOSING → CLOSED, with the constants on the class and the instance', async () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const s = await serve();
    const ws = client(s.url);
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    const states: number[] = [];
    ws.on('open', () => states.push(ws.readyState));
    ws.on('close', () => states.push(ws.readyState));
    await next(ws, 'open');
    ws.close(1000);
    states.push(ws.readyState);
    await next(ws, 'close');
    assert.deepEqual(states, [WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]);
  });

  it('the server side is OPEN in the connection event and CLOSED in its close event', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    assert.equal(peer.readyState, WebSocket.OPEN);
    const states: number[] = [];
    peer.on('close', () => states.push(peer.readyState));
    const closed = recordClose(peer);
    ws.close(1000);
    await closed;
    assert.deepEqual(states, [WebSocket.CLOSED]);
  });
});

describe('send()', () => {
  it('sends strings as text and Buffer, ArrayBuffer, typed arrays, DataView and Blob as binary, calling back', async () => {
    const s = await echoServer();
    const { ws } = await connected(s);
    const bytes = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const cases: [Parameters<WebSocket['send']>[0], Buffer, boolean][] = [
      ['text ✓', Buffer.from('text ✓'), false],
      [Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]), true],
      [bytes.buffer, Buffer.from(bytes), true],
      [bytes.subarray(2, 5), Buffer.from([7, 6, 5]), true],
      [new DataView(bytes.buffer, 6, 3), Buffer.from([3, 2, 1]), true],
      [new Uint16Array([0x0102]), Buffer.from(new Uint16Array([0x0102]).buffer), true],
      [
        new Blob([Buffer.from('blob'), Buffer.from([0xff])]),
        Buffer.from([...Buffer.from('blob'), 0xff]),
        true,
      ],
    ];
    for (const [data, expected, binary] of cases) {
      const echo = next<[Buffer, boolean]>(ws, 'message');
      await sent(ws, data);
      const [got, isBinary] = await echo;
      assert.equal(isBinary, binary);
      assert.deepEqual(got, expected);
    }
  });

  it('binary: false sends bytes as text; binary: true sends a string as binary', async () => {
    const s = await echoServer();
    const { ws } = await connected(s);
    let echo = next<[Buffer, boolean]>(ws, 'message');
    ws.send(Buffer.from('as text'), { binary: false });
    assert.deepEqual(await echo, [Buffer.from('as text'), false]);
    echo = next<[Buffer, boolean]>(ws, 'message');
    ws.send('as binary', { binary: true });
    assert.deepEqual(await echo, [Buffer.from('as binary'), true]);
  });

  it('keeps the order of messages sent after a Blob', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      peer.on('message', (data: Buffer) => {
        got.push(data.toString());
        if (got.length === 4) resolve();
      });
    });
    ws.send('first');
    ws.send(new Blob(['second']));
    ws.send('third');
    ws.send(new Blob(['fourth']));
    await within(all, 'four messages');
    assert.deepEqual(got, ['first', 'second', 'third', 'fourth']);
  });

  it('a close() right after sending a Blob comes after the Blob', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const message = next<[Buffer]>(peer, 'message');
    const closed = recordClose(peer);
    ws.send(new Blob(['last words']));
    ws.close(1000, 'bye');
    assert.equal((await message)[0].toString(), 'last words');
    assert.deepEqual(await closed, { code: 1000, reason: 'bye' });
  });

  it('throws while CONNECTING', async () => {
    const s = await serve();
    const ws = client(s.url);
    assert.throws(() => ws.send('too early'), {
      code: 'WS_ERR_NOT_OPEN',
      message: 'WebSocket is not open: readyState 0 (CONNECTING)',
    });
    assert.throws(() => ws.ping(), { code: 'WS_ERR_NOT_OPEN' });
    await next(ws, 'open');
  });

  it('after close(), the callback gets an error and nothing is thrown', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    ws.close();
    const errors = await Promise.all(
      [
        (cb: (err?: Error | null) => void) => ws.send('late', cb),
        (cb: (err?: Error | null) => void) => ws.send(new Blob(['late']), cb),
        (cb: (err?: Error | null) => void) => ws.ping('late', cb),
        (cb: (err?: Error | null) => void) => ws.pong(undefined, cb),
      ].map((call) =>
        within(new Promise<Error | null | undefined>((resolve) => call(resolve)), 'a callback'),
      ),
    );
    for (const err of errors) {
      assert.ok(err instanceof Error);
      assert.equal((err as { code?: string }).code, 'WS_ERR_NOT_OPEN');
      assert.match(err.message, /readyState 2 \(CLOSING\)/);
    }
    await next(ws, 'close');
    const afterClosed = await within(new Promise<Error | null | undefined>((r) => ws.send('x', r)), 'cb');
    assert.match(String(afterClosed?.message), /readyState 3 \(CLOSED\)/);
  });

  it('bufferedAmount counts what is queued and drops back to 0 once written', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    assert.equal(ws.bufferedAmount, 0);
    const done = sent(ws, Buffer.alloc(1000));
    assert.ok(ws.bufferedAmount >= 1000, `bufferedAmount ${ws.bufferedAmount}`);
    await done;
    assert.equal(ws.bufferedAmount, 0);
  });

  it('ping() and pong() call back once written', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const ping = next<[Buffer]>(peer, 'ping');
    const results = await within(
      Promise.all([
        new Promise((resolve) => ws.ping('p', resolve)),
        new Promise((resolve) => ws.pong('q', false, resolve)),
      ]),
      'the ping and pong callbacks',
    );
    assert.deepEqual(
      results.map((err) => err ?? null),
      [null, null],
    );
    assert.equal((await ping)[0].toString(), 'p');
  });

  it('ping/pong payloads over 125 bytes throw', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    assert.throws(() => ws.ping(Buffer.alloc(126)), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => ws.pong('x'.repeat(126)), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });

  it('close() with a code that may not be sent, or a reason over 123 bytes, throws', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    assert.throws(() => ws.close(1005), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => ws.close(2000), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => ws.close(undefined, 'x'.repeat(124)), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('a reason without a code closes with 1000 and the reason, as a browser does (ws drops it)', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const peerClosed = recordClose(peer);
    const closed = recordClose(ws);
    ws.close(undefined, 'bye');
    assert.deepEqual(await peerClosed, { code: 1000, reason: 'bye' });
    assert.deepEqual(await closed, { code: 1000, reason: 'bye' });
  });

  it('no code and no reason: an empty Close frame, seen as 1005', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const peerClosed = recordClose(peer);
    ws.close(undefined, '');
    assert.deepEqual(await peerClosed, { code: 1005, reason: '' });
  });
});

describe('fragmentSize', () => {
  it('splits outgoing messages into frames of that size, read back whole', async () => {
    const s = await serve({ fragmentSize: 10, heartbeat: false });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket, rest } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    const [peer] = await connection;
    const chunks: Buffer[] = [rest];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const written = new Promise((resolve) => peer.send('0123456789abcdefghij-tail', resolve));
    await within(written, 'the send callback');
    const closed = readAll(socket);
    peer.terminate(); // after the callback: the bytes are with the kernel, ahead of the FIN
    await closed;
    const frames = serverFrames(Buffer.concat(chunks));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [0x1, false, '0123456789'],
        [0x0, false, 'abcdefghij'],
        [0x0, true, '-tail'],
      ],
    );
    // And a wskit client with the same option talks to a normal server.
    const echo = await echoServer();
    const { ws } = await connected(echo, '', { fragmentSize: 3 });
    const back = next<[Buffer]>(ws, 'message');
    ws.send('fragmented ✓');
    assert.equal((await back)[0].toString(), 'fragmented ✓');
  });
});

describe('binaryType', () => {
  async function receive(binaryType: string, payload: Buffer | string) {
    const s = await serve();
    const { ws, peer } = await connected(s);
    ws.binaryType = binaryType as WebSocket['binaryType'];
    const message = next<[unknown, boolean]>(ws, 'message');
    peer.send(payload);
    return message;
  }

  it('nodebuffer (the default) gives a Buffer', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    assert.equal(ws.binaryType, 'nodebuffer');
    const [data] = await receive('nodebuffer', Buffer.from([1, 2]));
    assert.ok(Buffer.isBuffer(data));
    assert.deepEqual([...(data as Buffer)], [1, 2]);
  });

  it('arraybuffer gives an ArrayBuffer of exactly the message', async () => {
    const [data, isBinary] = await receive('arraybuffer', Buffer.from([1, 2, 3]));
    assert.equal(isBinary, true);
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data as ArrayBuffer)], [1, 2, 3]);
  });

  it('fragments gives an array of Buffers that join into the message', async () => {
    const [data] = await receive('fragments', Buffer.from([4, 5, 6]));
    assert.ok(Array.isArray(data));
    assert.deepEqual([...Buffer.concat(data as Buffer[])], [4, 5, 6]);
  });

  it('blob gives a Blob', async () => {
    const [data] = await receive('blob', Buffer.from('in a blob'));
    assert.ok(data instanceof Blob);
    assert.equal(await (data as Blob).text(), 'in a blob');
  });

  it('text is a Buffer whatever the binaryType, and an unknown type is ignored', async () => {
    const [data, isBinary] = await receive('arraybuffer', 'text');
    assert.equal(isBinary, false);
    assert.ok(Buffer.isBuffer(data));
    const s = await serve();
    const { ws } = await connected(s);
    ws.binaryType = 'bogus' as WebSocket['binaryType'];
    assert.equal(ws.binaryType, 'nodebuffer');
  });
});

describe('browser-style events', () => {
  it('onopen, onmessage, onclose get Event, MessageEvent and CloseEvent with the right fields', async () => {
    const s = await serve();
    s.wss.on('connection', (peer: WebSocket) => {
      peer.send('text ✓');
      peer.send(Buffer.from([1, 2]));
      peer.close(4001, 'done');
    });
    const ws = client(s.url);
    ws.binaryType = 'arraybuffer';
    const events: Event[] = [];
    const closed = new Promise<void>((resolve) => {
      ws.onopen = (e: Event) => events.push(e);
      ws.onmessage = (e: MessageEvent) => events.push(e);
      ws.onclose = (e: CloseEvent) => {
        events.push(e);
        resolve();
      };
    });
    assert.equal(typeof ws.onmessage, 'function');
    await within(closed, 'onclose');
    const [open, text, binary, close] = events;
    assert.ok(open instanceof Event);
    assert.equal(open.type, 'open');
    assert.equal(open.target, ws);
    assert.ok(text instanceof MessageEvent);
    assert.equal(text.type, 'message');
    assert.equal(text.data, 'text ✓', 'text is a string in a MessageEvent');
    assert.equal(text.target, ws);
    assert.ok(binary instanceof MessageEvent);
    assert.ok(binary.data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(binary.data as ArrayBuffer)], [1, 2]);
    assert.ok(close instanceof CloseEvent);
    assert.equal(close.type, 'close');
    assert.equal(close.code, 4001);
    assert.equal(close.reason, 'done');
    assert.equal(close.wasClean, true);
    assert.equal(events.length, 4);
  });

  it('onerror gets an ErrorEvent with error and message', async () => {
    const raw = await rawServer((_request, socket) =>
      socket.end('HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n'),
    );
    defer(() => closeRawServer(raw));
    const ws = client(`ws://127.0.0.1:${raw.port}`);
    const event = await within(
      new Promise<ErrorEvent>((resolve) => {
        ws.onerror = resolve;
      }),
      'onerror',
    );
    assert.ok(event instanceof ErrorEvent);
    assert.equal(event.type, 'error');
    assert.equal(event.message, 'Unexpected server response: 500');
    assert.ok(event.error instanceof Error);
    assert.equal(event.target, ws);
  });

  it('addEventListener: once, removeEventListener, handleEvent objects, no duplicates', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const calls: string[] = [];
    const listener = (e: MessageEvent) => calls.push(`fn:${e.data}`);
    const onceListener = (e: MessageEvent) => calls.push(`once:${e.data}`);
    const object = { handleEvent: (e: MessageEvent) => calls.push(`obj:${e.data}`) };
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener); // the same listener twice is added once
    ws.addEventListener('message', onceListener, { once: true });
    ws.addEventListener('message', object);
    let message = next(ws, 'message');
    peer.send('a');
    await message;
    ws.removeEventListener('message', listener);
    message = next(ws, 'message');
    peer.send('b');
    await message;
    assert.deepEqual(calls, ['fn:a', 'once:a', 'obj:a', 'obj:b']);
  });

  it('setting an on* attribute replaces the previous handler; null removes it', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const calls: string[] = [];
    const first = () => calls.push('first');
    ws.onmessage = first;
    ws.onmessage = () => calls.push('second');
    ws.addEventListener('message', () => calls.push('listener'));
    let message = next(ws, 'message');
    peer.send('x');
    await message;
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    message = next(ws, 'message');
    peer.send('y');
    await message;
    assert.deepEqual(calls, ['second', 'listener', 'listener']);
  });
});

describe('ping and pong', () => {
  it("autoPong: false leaves the answer to the application ('ping' event, pong())", async () => {
    const s = await serve({ autoPong: false });
    const { ws, peer } = await connected(s);
    const pongs: string[] = [];
    ws.on('pong', (data: Buffer) => pongs.push(data.toString()));
    peer.on('ping', (data: Buffer) => peer.pong(Buffer.concat([Buffer.from('re: '), data])));
    const pong = next<[Buffer]>(ws, 'pong');
    ws.ping('hello');
    await pong;
    assert.deepEqual(pongs, ['re: hello'], 'only the application pong, no automatic one');
  });
});

describe('pause() and resume()', () => {
  it('no message is delivered while paused, then all in order on resume()', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const got: string[] = [];
    const first = next(ws, 'message');
    ws.on('message', (data: Buffer) => {
      got.push(data.toString());
      if (got.length === 1) ws.pause();
    });
    // One tick, so one write: the three arrive in one chunk and two wait behind the pause.
    peer.send('one');
    peer.send('two');
    peer.send('three');
    await first;
    assert.equal(ws.isPaused, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(got, ['one']);
    // More sent while paused stays unread too.
    const written = new Promise((resolve) => peer.send('four', resolve));
    await written;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(got, ['one']);
    const all = new Promise<void>((resolve) => ws.on('message', () => got.length === 4 && resolve()));
    ws.resume();
    assert.equal(ws.isPaused, false);
    await within(all, 'the messages held back');
    assert.deepEqual(got, ['one', 'two', 'three', 'four']);
  });
});

describe('createWebSocketStream', () => {
  it('chunks written become messages; ending the stream closes the connection', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const got: string[] = [];
    peer.on('message', (data: Buffer) => got.push(data.toString()));
    const closed = recordClose(peer);
    const duplex = createWebSocketStream(ws);
    duplex.resume();
    await pipeline(Readable.from(['a', 'b', 'c']), duplex);
    assert.equal((await closed).code, 1005);
    assert.deepEqual(got, ['a', 'b', 'c']);
  });

  it('messages received are read as chunks; the peer closing ends the readable side', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const duplex = createWebSocketStream(ws);
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const piped = within(pipeline(duplex, sink), 'the readable side to end');
    peer.send('x');
    peer.send(Buffer.from('y'));
    peer.close(1000);
    await piped;
    assert.deepEqual(chunks, ['x', 'y']);
  });

  it('a stream made while CONNECTING holds writes until open (the README example)', async () => {
    const s = await echoServer();
    const ws = client(s.url);
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    duplex.write('written early');
    const [chunk] = await next<[string]>(duplex, 'data');
    assert.equal(chunk, 'written early');
    const closed = recordClose(ws);
    duplex.end();
    assert.equal((await closed).code, 1005);
  });

  it('a write once the connection is closed destroys the stream with the error (as ws)', async () => {
    const s = await serve();
    const { ws } = await connected(s);
    const closed = recordClose(ws);
    ws.close();
    await closed;
    const duplex = createWebSocketStream(ws);
    const error = next<[Error & { code?: string }]>(duplex, 'error');
    duplex.write('too late');
    const [err] = await error;
    assert.equal(err.code, 'WS_ERR_NOT_OPEN');
    assert.equal(duplex.destroyed, true);
  });

  it('destroying the stream terminates the connection (1006 at the peer)', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const duplex = createWebSocketStream(ws);
    const closed = recordClose(peer);
    duplex.destroy();
    assert.equal((await closed).code, 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('data piped through an echo server comes back', async () => {
    const s = await echoServer();
    const { ws } = await connected(s);
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    duplex.write('round trip ✓');
    const [chunk] = await next<[string]>(duplex, 'data');
    assert.equal(chunk, 'round trip ✓');
    duplex.destroy();
    await next(ws, 'close');
  });
});

describe('async iteration', () => {
  it('for await (const { data, isBinary } of ws) yields every message and ends on close', async () => {
    const s = await serve();
    s.wss.on('connection', (peer: WebSocket) => {
      peer.send('one');
      peer.send(Buffer.from([2]));
      peer.send('three');
      peer.close(1000);
    });
    const ws = client(s.url);
    const got: [string, boolean][] = [];
    const loop = (async () => {
      for await (const { data, isBinary } of ws)
        got.push([String(isBinary ? [...(data as Buffer)] : data), isBinary]);
    })();
    await within(loop, 'the loop to end');
    assert.deepEqual(got, [
      ['one', false],
      ['2', true],
      ['three', false],
    ]);
  });

  it('leaving the loop while it holds the connection paused still completes the closing handshake', async () => {
    const s = await serve();
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const ws = client(s.url);
    await next(ws, 'open');
    const [peer] = await connection;
    const iterator = ws[Symbol.asyncIterator]();
    // More messages than the iterator buffers: it pauses the connection.
    const paused = new Promise<void>((resolve) => ws.on('message', () => ws.isPaused && resolve()));
    for (let i = 0; i < 100; i++) peer.send(`m${i}`);
    await within(paused, 'the iterator to pause the connection');
    assert.equal(String((await iterator.next()).value?.data), 'm0');
    const atClient = recordClose(ws);
    const atServer = recordClose(peer);
    await iterator.return?.();
    assert.deepEqual(await atClient, { code: 1000, reason: '' });
    assert.deepEqual(await atServer, { code: 1000, reason: '' });
  });

  it('leaving the loop early closes the connection with 1000', async () => {
    const s = await serve();
    s.wss.on('connection', (peer: WebSocket) => {
      peer.send('one');
      peer.send('two');
    });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const ws = client(s.url);
    const [peer] = await connection;
    const closed = recordClose(peer);
    for await (const { data } of ws) {
      assert.equal(String(data), 'one');
      break;
    }
    assert.equal((await closed).code, 1000);
  });
});

describe("ws's signatures", () => {
  it('ping(cb) and pong(cb): the callback is called once the empty frame is written', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const pinged = next<[Buffer]>(peer, 'ping');
    const ponged = next<[Buffer]>(peer, 'pong');
    await within(
      new Promise<void>((resolve, reject) => ws.ping((err) => (err ? reject(err) : resolve()))),
      'ping cb',
    );
    await within(
      new Promise<void>((resolve, reject) => ws.pong((err) => (err ? reject(err) : resolve()))),
      'pong cb',
    );
    assert.equal((await pinged)[0].length, 0);
    assert.equal((await ponged)[0].length, 0);
  });

  it('send() with no data sends an empty binary message', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const received = next<[Buffer, boolean]>(peer, 'message');
    ws.send();
    const [data, isBinary] = await received;
    assert.deepEqual([data.length, isBinary], [0, true]);
  });

  it("close() and terminate() from the 'error' listener of a failed handshake do nothing more", async () => {
    const raw = await rawServer((_request, socket) => socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'));
    defer(() => closeRawServer(raw));
    const ws = client(`ws://127.0.0.1:${raw.port}`);
    const thrown: unknown[] = [];
    ws.on('error', () => {
      try {
        ws.close();
        ws.terminate();
      } catch (err) {
        thrown.push(err);
      }
    });
    const closed = recordClose(ws);
    assert.equal((await closed).code, 1006);
    assert.deepEqual(thrown, []);
  });

  it('new WebSocket(url, null) is refused as a subprotocol, not taken as options', () => {
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1', null as never),
      (err: Error & { code?: string }) => err.code === 'WS_ERR_INVALID_ARGUMENT',
    );
  });
});

describe("ws's property descriptors", () => {
  it('the ready-state constants are read-only and enumerable on the class and its prototype', () => {
    for (const target of [WebSocket, WebSocket.prototype]) {
      for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
        assert.deepEqual(Object.getOwnPropertyDescriptor(target, name), {
          value,
          writable: false,
          enumerable: true,
          configurable: false,
        });
      }
    }
  });

  it('the accessors and on* attributes are enumerable', () => {
    for (const name of [
      'binaryType',
      'bufferedAmount',
      'extensions',
      'isPaused',
      'protocol',
      'readyState',
      'url',
    ]) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.equal(typeof d?.get, 'function', name);
      assert.equal(d?.enumerable, true, name);
    }
    for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.deepEqual(
        [typeof d?.get, typeof d?.set, d?.enumerable, d?.configurable],
        // Configurable, as ws's are.
        ['function', 'function', true, true],
      );
    }
  });
});

describe("ws's event classes", () => {
  it('are built as ws builds them: (type, init) with ws defaults, read-only enumerable getters', () => {
    const close = new CloseEvent('close', { code: 4000, reason: 'bye', wasClean: true });
    assert.deepEqual(
      [close.type, close.code, close.reason, close.wasClean, close.target],
      ['close', 4000, 'bye', true, null],
    );
    const bare = new CloseEvent('close');
    assert.deepEqual([bare.code, bare.reason, bare.wasClean], [0, '', false]);
    const error = new ErrorEvent('error', { error: new Error('x'), message: 'x' });
    assert.deepEqual([error.message, (error.error as Error).message], ['x', 'x']);
    assert.deepEqual([new ErrorEvent('error').error, new ErrorEvent('error').message], [null, '']);
    assert.equal(new MessageEvent('message', { data: 'hi' }).data, 'hi');
    assert.equal(new MessageEvent('message').data, null);
    assert.ok(new MessageEvent('message') instanceof Event);
    for (const [proto, names] of [
      [Event.prototype, ['target', 'type']],
      [CloseEvent.prototype, ['code', 'reason', 'wasClean']],
      [ErrorEvent.prototype, ['error', 'message']],
      [MessageEvent.prototype, ['data']],
    ] as const) {
      for (const name of names) {
        const d = Object.getOwnPropertyDescriptor(proto, name);
        assert.deepEqual([typeof d?.get, d?.set, d?.enumerable], ['function', undefined, true], name);
      }
    }
    assert.throws(() => {
      (close as unknown as { code: number }).code = 1;
    }, TypeError);
  });

  it('an onclose listener gets a CloseEvent whose target is the WebSocket', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    const event = new Promise<CloseEvent>((resolve) => {
      ws.onclose = (e: unknown) => resolve(e as CloseEvent);
    });
    peer.close(4001, 'done');
    const e = await event;
    assert.ok(e instanceof CloseEvent);
    assert.deepEqual(
      [e.type, e.code, e.reason, e.wasClean, e.target === ws],
      ['close', 4001, 'done', true, true],
    );
  });
});

describe('a Blob that cannot be read', () => {
  it("fails the connection with 1011 and 'error', as ws fails it; the send callback gets the error", async () => {
    class UnreadableBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error('unreadable'));
      }
    }
    const s = await serve();
    const { ws, peer } = await connected(s);
    const error = next<[Error]>(ws, 'error');
    const peerClosed = recordClose(peer);
    const cb = new Promise<Error | null | undefined>((resolve) =>
      ws.send(new UnreadableBlob(['x']), resolve),
    );
    assert.equal((await cb)?.message, 'unreadable');
    assert.equal((await error)[0].message, 'unreadable');
    assert.equal((await peerClosed).code, 1011);
  });

  it('what was sent after it gets its error and is not sent (ws calls every queued callback with it)', async () => {
    const blob = new HeldBlob(['x']);
    const s = await serve();
    const { ws, peer } = await connected(s);
    ws.on('error', () => {});
    let messages = 0;
    peer.on('message', () => messages++);
    const first = callbackOf(ws, blob);
    const second = callbackOf(ws, 'after');
    blob.reject(new DOMException('The blob could not be read', 'NotReadableError'));
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a?.name, 'NotReadableError');
    assert.equal(b, a);
    await recordClose(peer);
    assert.equal(messages, 0);
  });

  it("read after the connection closed: the callback gets the Blob's error and no 'error' is emitted", async () => {
    const blob = new HeldBlob(['x']);
    const s = await serve();
    const { ws, peer } = await connected(s);
    let errors = 0;
    ws.on('error', () => errors++);
    const cb = callbackOf(ws, blob);
    const closed = recordClose(ws);
    peer.terminate();
    await closed;
    blob.reject(new DOMException('The blob could not be read', 'NotReadableError'));
    assert.equal((await cb)?.name, 'NotReadableError');
    assert.equal(errors, 0);
  });

  it("read once the socket was destroyed: 'The socket was closed while the blob was being read', for what waits behind it too", async () => {
    const blob = new HeldBlob(['foo']);
    const s = await serve();
    const { ws } = await connected(s);
    const first = callbackOf(ws, blob);
    const second = callbackOf(ws, 'bar');
    const closed = recordClose(ws);
    ws.terminate();
    blob.resolve();
    const text = 'The socket was closed while the blob was being read';
    for (const err of [await first, await second]) {
      assert.equal(err?.message, text);
      assert.equal((err as { code?: string }).code, 'WS_ERR_NOT_OPEN');
    }
    await closed;
  });
});

describe('a message compressed on the thread pool when the socket closes', () => {
  it("its callback and those behind it get 'The socket was closed while data was being compressed'", async () => {
    const s = await serve({ perMessageDeflate: { threshold: 0 } });
    const { ws } = await connected(s, '', { perMessageDeflate: { threshold: 0, syncLimit: 0 } });
    assert.equal(ws.extensions, 'permessage-deflate');
    const first = callbackOf(ws, 'compressed on the pool');
    const second = callbackOf(ws, 'behind it');
    ws.terminate();
    const text = 'The socket was closed while data was being compressed';
    for (const err of [await first, await second]) {
      assert.equal(err?.message, text);
      assert.equal((err as { code?: string }).code, 'WS_ERR_NOT_OPEN');
    }
  });
});

/** A Blob whose arrayBuffer() settles when the test says so. */
class HeldBlob extends Blob {
  private settle: { resolve: (ab: ArrayBuffer) => void; reject: (err: Error) => void } | null = null;
  private readonly read = new Promise<ArrayBuffer>((resolve, reject) => {
    this.settle = { resolve, reject };
  });

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.read;
  }

  resolve(): void {
    this.settle!.resolve(new ArrayBuffer(this.size));
  }

  reject(err: Error): void {
    this.settle!.reject(err);
  }
}

function callbackOf(ws: WebSocket, data: Blob | string): Promise<Error | null | undefined> {
  return within(new Promise((resolve) => ws.send(data, resolve)), 'the send callback');
}
