// LeanSocket: a TCP connection driven through Node's libuv handle, with net.Socket's events and the
// methods wskit uses. Each test accepts real loopback connections through acceptLeanSockets().
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acceptLeanSockets } from '../../src/node/transport/lean-accept.js';
import { LeanSocket } from '../../src/node/transport/lean-socket.js';
import { defer, next, readAll, runCleanups, serve, WebSocket, within } from './helpers.js';

afterEach(runCleanups);

/** A listening net.Server whose connections arrive as LeanSockets, and a client connected to it. */
async function pair(): Promise<{ lean: LeanSocket; peer: Socket; server: Server }> {
  // 'connection' is emitted with the LeanSocket (as net.Server emits it with a net.Socket).
  const server = createServer((s) => {
    if (!(s instanceof LeanSocket)) assert.fail('a net.Socket was created');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<LeanSocket>((resolve) => {
    assert.equal(
      acceptLeanSockets(server, (s) => resolve(s)),
      true,
    );
  });
  const { port } = server.address() as { port: number };
  const peer = connect(port, '127.0.0.1');
  peer.on('error', () => {});
  const lean = await within(accepted, 'accepted');
  lean.on('error', () => {});
  defer(() => {
    lean.destroy();
    peer.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { lean, peer, server };
}

function collect(lean: LeanSocket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  lean.on('data', (c: Buffer) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks) };
}

/** The 'close' event's hadError argument (next() would reject on the 'error' before it). */
function closeOf(lean: LeanSocket): Promise<boolean> {
  return within(new Promise<boolean>((resolve) => lean.once('close', resolve)), 'close');
}

async function until(cond: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!cond()) await new Promise((resolve) => setImmediate(resolve));
    })(),
    what,
  );
}

describe('LeanSocket', () => {
  it('reads and writes both ways, with the addresses of net.Socket', async () => {
    const { lean, peer } = await pair();
    const got = collect(lean);
    peer.write('hello');
    await until(() => got.bytes().length === 5, 'data');
    assert.equal(got.bytes().toString(), 'hello');
    const echoed = next<[Buffer]>(peer, 'data');
    const written = new Promise<Error | null | undefined>((resolve) => lean.write('world', resolve));
    assert.equal(await written, null);
    assert.equal(String((await echoed)[0]), 'world');
    assert.equal(lean.remoteAddress, '127.0.0.1');
    assert.equal(lean.remotePort, peer.localPort);
    assert.equal(lean.remoteFamily, 'IPv4');
    assert.equal(lean.localPort, peer.remotePort);
    assert.equal(lean.localAddress, '127.0.0.1');
    assert.equal(lean.bytesRead, 5);
    assert.equal(lean.bytesWritten, 5);
    assert.equal(lean.readyState, 'open');
    assert.equal(lean.setNoDelay(true), lean);
    assert.equal(lean.setKeepAlive(true, 1000), lean);
  });

  it('cork() gathers writes into one writev; callbacks run in order', async () => {
    const { lean, peer } = await pair();
    const received = readAll(peer);
    const order: string[] = [];
    lean.cork();
    lean.write('a', () => order.push('a'));
    lean.write(Buffer.from('b'));
    lean.write(new Uint8Array([0x63]), () => order.push('c'));
    assert.equal(lean.writableLength, 3, 'corked bytes count as buffered');
    lean.uncork();
    lean.end();
    assert.equal(String(await received), 'abc');
    assert.deepEqual(order, ['a', 'c']);
  });

  it("holds its place on the handle where net.Socket does: Node's list of active handles shows the LeanSocket", async () => {
    const { lean } = await pair();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    assert.ok(handles.includes(lean), 'the LeanSocket, not its bare handle');
    const handle = (lean as unknown as { _handle: object })._handle;
    assert.deepEqual(
      Object.getOwnPropertySymbols(handle).map((s) => s.description),
      ['owner_symbol'],
      'no property of its own on the handle',
    );
  });

  it('writeChunks() writes a list as one writev, and joins what an application corked, in order', async () => {
    const { lean, peer } = await pair();
    const received = readAll(peer);
    const order: string[] = [];
    assert.equal(
      lean.writeChunks([Buffer.from('a'), Buffer.from('b')], () => order.push('ab')),
      true,
    );
    lean.cork();
    lean.write('c', () => order.push('c'));
    lean.writeChunks([Buffer.from('d'), Buffer.from('e')], () => order.push('de'));
    assert.equal(lean.writableLength, 3, 'held while corked, and counted');
    lean.uncork();
    lean.end();
    assert.equal(String(await received), 'abcde');
    assert.deepEqual(order, ['ab', 'c', 'de']);
    assert.equal(lean.writeChunks([Buffer.from('f')], undefined), false, 'refused after end()');
  });

  it('pause() holds incoming chunks (reading stops); resume() emits them in order', async () => {
    const { lean, peer } = await pair();
    lean.pause();
    assert.equal(lean.isPaused(), true);
    const got = collect(lean);
    peer.write('one');
    await until(() => lean.bytesRead === 3, 'the chunk read, and held');
    lean.unshift(Buffer.from('zero,'));
    assert.equal(got.bytes().length, 0, 'nothing emitted while paused');
    lean.resume();
    peer.write(',two');
    await until(() => got.bytes().length === 12, 'held and new data');
    assert.equal(String(got.bytes()), 'zero,one,two');
  });

  it("the peer's FIN: 'end', then our FIN, then 'close' (no half-open connection)", async () => {
    const { lean, peer } = await pair();
    const events: string[] = [];
    lean.on('end', () => events.push('end'));
    lean.on('finish', () => events.push('finish'));
    const closed = next<[boolean]>(lean, 'close');
    const peerEnded = next(peer, 'end');
    lean.resume();
    peer.end();
    assert.deepEqual(await closed, [false]);
    await peerEnded;
    assert.deepEqual(events, ['end', 'finish']);
    assert.equal(lean.destroyed, true);
  });

  it("after a pause, the held data comes first, then reading restarts and finds the peer's FIN", async () => {
    const { lean, peer } = await pair();
    lean.pause();
    const events: string[] = [];
    lean.on('data', (c: Buffer) => events.push(`data ${c}`));
    lean.on('end', () => events.push('end'));
    peer.end('last words');
    await until(() => lean.bytesRead === 10, 'the chunk read, and held');
    assert.deepEqual(events, []);
    const closed = next(lean, 'close');
    lean.resume();
    await closed;
    assert.deepEqual(events, ['data last words', 'end']);
  });

  it('end(data) sends, then FIN; writing afterwards fails with ERR_STREAM_WRITE_AFTER_END', async () => {
    const { lean, peer } = await pair();
    const received = readAll(peer);
    const finished = next(lean, 'finish');
    lean.end('bye');
    assert.equal(lean.writable, false);
    assert.equal(lean.writableEnded, true);
    await finished;
    assert.equal(lean.writableFinished, true);
    assert.equal(String(await received), 'bye');
    const error = next<[NodeJS.ErrnoException]>(lean, 'error');
    const cbError = new Promise<Error | null | undefined>((resolve) => lean.write('more', resolve));
    assert.equal(lean.write('again'), false);
    assert.equal((await cbError)?.message, 'write after end');
    assert.equal((await error)[0].code, 'ERR_STREAM_WRITE_AFTER_END');
  });

  it("backpressure: write() turns false past 16 KiB waiting; 'drain' once the reader catches up", async () => {
    const { lean, peer } = await pair();
    peer.pause();
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let total = 0;
    while (lean.write(chunk)) total += chunk.length;
    total += chunk.length;
    assert.ok(lean.writableLength > 16 * 1024, 'the unwritten bytes are counted');
    assert.equal(lean.writableNeedDrain, true);
    const drained = next(lean, 'drain');
    let read = 0;
    peer.on('data', (c: Buffer) => {
      read += c.length;
    });
    peer.resume();
    await drained;
    assert.equal(lean.writableLength, 0);
    await until(() => read === total, 'every byte read');
  });

  it("corked writes past 16 KiB make write() false; 'drain' follows the uncork even when all goes at once", async () => {
    const { lean, peer } = await pair();
    const received = readAll(peer);
    lean.cork();
    assert.equal(lean.write(Buffer.alloc(10 * 1024, 1)), true);
    assert.equal(lean.write(Buffer.alloc(10 * 1024, 2)), false, 'past the mark while corked');
    const drained = next(lean, 'drain');
    lean.uncork();
    await drained;
    assert.equal(lean.writableLength, 0);
    lean.end();
    assert.equal((await received).length, 20 * 1024);
  });

  it('destroy(error) emits error, then close(true); pending write callbacks get an error', async () => {
    const { lean, peer } = await pair();
    peer.pause();
    let cbError: Error | null | undefined;
    const big = Buffer.alloc(8 * 1024 * 1024);
    lean.write(big, (err) => {
      cbError = err;
    });
    const events: string[] = [];
    lean.on('error', (e: Error) => events.push(`error ${e.message}`));
    const closed = closeOf(lean);
    lean.destroy(new Error('boom'));
    assert.equal(lean.destroyed, true);
    assert.equal(lean.readyState, 'closed');
    assert.equal(await closed, true);
    assert.deepEqual(events, ['error boom']);
    assert.ok(cbError instanceof Error, 'the cancelled write reports an error');
    assert.equal(lean.write('x'), false);
  });

  it("the sink (wskit's own reader) gets every event first, and the application's listeners still get them", async () => {
    const { lean, peer } = await pair();
    lean.removeAllListeners();
    const order: string[] = [];
    lean._sink = {
      data: (chunk) => order.push(`sink data ${chunk}`),
      end: () => order.push('sink end'),
      close: (hadError) => order.push(`sink close ${hadError}`),
      error: (err) => order.push(`sink error ${err.message}`),
    };
    lean.on('data', (chunk: Buffer) => order.push(`listener data ${chunk}`));
    lean.on('end', () => order.push('listener end'));
    const closed = closeOf(lean);
    peer.end('hi');
    assert.equal(await closed, false);
    assert.deepEqual(order, [
      'sink data hi',
      'listener data hi',
      'sink end',
      'listener end',
      'sink close false',
    ]);

    const second = await pair();
    second.lean.removeAllListeners();
    const events: string[] = [];
    second.lean._sink = {
      data: () => {},
      end: () => {},
      close: (hadError) => events.push(`close ${hadError}`),
      error: (err) => events.push(`error ${err.message}`),
    };
    const gone = closeOf(second.lean);
    second.lean.destroy(new Error('boom'));
    assert.equal(await gone, true);
    assert.deepEqual(events, ['error boom', 'close true']);
  });

  it("with no 'error' listener, an error does not throw: the socket closes, and 'close' says so", async () => {
    const { lean } = await pair();
    lean.removeAllListeners('error');
    const closed = closeOf(lean);
    lean.destroy(new Error('boom'));
    assert.equal(await closed, true);
    const second = await pair();
    second.lean.removeAllListeners('error');
    const reset = closeOf(second.lean);
    second.lean.resume();
    second.peer.resetAndDestroy();
    assert.equal(await reset, true);
  });

  it('write(string) sends latin1 and UTF-8 text as such; a string the kernel cannot take at once is counted', async () => {
    const { lean, peer } = await pair();
    const received = readAll(peer);
    peer.pause();
    assert.equal(lean.write('caf\u00e9 ', 'latin1'), true);
    assert.equal(lean.write('\u20ac\u{1f600} '), true);
    const big = '\u00e9'.repeat(4 * 1024 * 1024); // 8 MiB in UTF-8
    const written = new Promise<Error | null | undefined>((resolve) => lean.write(big, resolve));
    assert.ok(lean.writableLength > 0 && lean.writableLength <= 8 * 1024 * 1024 + 10);
    assert.equal(lean.writableNeedDrain, true);
    peer.resume();
    assert.equal(await written, null);
    assert.equal(lean.writableLength, 0);
    lean.end();
    const bytes = await received;
    assert.deepEqual(bytes.subarray(0, 5), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20]));
    assert.equal(bytes.subarray(5, 13).toString('utf8'), '\u20ac\u{1f600} ');
    assert.equal(bytes.length, 13 + 8 * 1024 * 1024);
  });

  it('a reset by the peer is an ECONNRESET error, then close', async () => {
    const { lean, peer } = await pair();
    const error = new Promise<NodeJS.ErrnoException>((resolve) => lean.once('error', resolve));
    const closed = closeOf(lean);
    lean.resume();
    peer.resetAndDestroy();
    assert.equal((await within(error, 'error')).code, 'ECONNRESET');
    assert.equal(await closed, true);
  });

  it('resetAndDestroy() resets the connection', async () => {
    const { lean, peer } = await pair();
    const peerError = new Promise<NodeJS.ErrnoException>((resolve) => peer.once('error', resolve));
    const closed = closeOf(lean);
    lean.resetAndDestroy();
    await closed;
    assert.equal((await within(peerError, 'the peer error')).code, 'ECONNRESET');
  });

  it("setTimeout(ms) emits 'timeout' after ms of silence, again after new activity; 0 turns it off", async () => {
    const { lean, peer } = await pair();
    lean.resume();
    lean.setTimeout(30);
    await next(lean, 'timeout');
    peer.write('x');
    await next(lean, 'data');
    await next(lean, 'timeout');
    lean.setTimeout(0);
    assert.equal(lean.timeout, 0);
  });
});

describe('leanSockets in WebSocketServer', () => {
  it('by default a server created with port hands out LeanSockets; leanSockets: false, net.Sockets', async () => {
    for (const leanSockets of [undefined, false]) {
      const s = await serve({ leanSockets });
      const connection = next<[WebSocket, { socket: object }]>(s.wss, 'connection');
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`);
      defer(() => ws.terminate());
      const [peer, req] = await connection;
      assert.equal(req.socket instanceof Socket, leanSockets === false);
      assert.equal(req.socket, peer._socket);
      peer.on('message', (data: Buffer) => peer.send(data));
      await once(ws, 'open');
      ws.send('ping me');
      const [echo] = await next<[Buffer]>(ws, 'message');
      assert.equal(String(echo), 'ping me');
      const closed = next<[number]>(peer, 'close');
      ws.close(4000);
      assert.deepEqual((await closed)[0], 4000);
    }
  });

  it('with --pending-deprecation, Node bindings are left alone: net.Sockets, and no warning', () => {
    const script = fileURLToPath(new URL('./fixtures/lean-fallback.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--pending-deprecation', '--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Socket');
    assert.doesNotMatch(r.stderr, /DeprecationWarning/);
  });
});
