// The signal option over HTTP/2: as over HTTP/1.1 (test/net/abort-signal.test.ts), aborting before
// 'open' fails the handshake with WS_ERR_HANDSHAKE_ABORTED (the signal's reason as cause), then
// 'close' with 1006; the stream is reset, and a session the client opened itself is closed (a caller's
// session stays open). WebSocketStream({ http2, signal }) rejects with the signal's reason.
import assert from 'node:assert/strict';
import { createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, WebSocketServer, WebSocketStream } from '../../src/index.js';
import {
  closeSession,
  defer,
  failure,
  next,
  portOf,
  recordClose,
  runCleanups,
  session,
  urlOf,
  within,
} from './helpers.js';

afterEach(runCleanups);

/** An h2c server that allows extended CONNECT and never answers one: each stream is kept. */
async function silentH2() {
  const server = createServer({ settings: { enableConnectProtocol: true } });
  const sessions = new Set<Http2Session>();
  const streams: ServerHttp2Stream[] = [];
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    streams.push(stream);
  });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  defer(() => {
    for (const s of sessions) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { server, sessions, streams };
}

describe('new WebSocket(url, { http2, signal })', () => {
  it('an already aborted signal fails at once: WS_ERR_HANDSHAKE_ABORTED, then 1006, no session opened', async () => {
    const { server } = await silentH2();
    let sessions = 0;
    server.on('session', () => sessions++);
    const reason = new Error('not wanted');
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true, signal: AbortSignal.abort(reason) });
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal(error.name, 'Error', "named 'Error', as ws's errors are");
    assert.equal(error.cause, reason);
    assert.equal(code, 1006);
    assert.equal(ws.readyState, ws.CLOSED);
    assert.equal(sessions, 0, 'nothing was connected');
  });

  it('aborting while the server has not answered resets the stream and closes the session it opened', async () => {
    const { server } = await silentH2();
    const controller = new AbortController();
    const sessionArrives = next<[Http2Session]>(server, 'session');
    const streamArrives = next<[ServerHttp2Stream]>(server, 'stream');
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true, signal: controller.signal });
    const [[serverSession], [stream]] = await Promise.all([sessionArrives, streamArrives]);
    const sessionGone = next(serverSession, 'close');
    const streamGone = next(stream, 'close');
    const result = failure(ws);
    const reason = new Error('too slow');
    controller.abort(reason);
    const { error, code } = await result;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal(error.cause, reason);
    assert.equal(code, 1006);
    await within(Promise.all([streamGone, sessionGone]), 'the stream and the session to close');
  });

  it("on a caller's session: the abort resets the stream only; 'error' and 'close' as over HTTP/1.1", async () => {
    const { server } = await silentH2();
    const s = await session(portOf(server), false);
    defer(() => closeSession(s));
    const controller = new AbortController();
    const ws = new WebSocket(urlOf(server, 'ws'), { http2Session: s, signal: controller.signal });
    const [stream] = await next<[ServerHttp2Stream]>(server, 'stream');
    const streamGone = next(stream, 'close');
    const result = failure(ws);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    const { error, code } = await result;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal(error.cause, reason);
    assert.equal(code, 1006);
    await streamGone;
    assert.equal(s.destroyed, false, "the caller's session is left open");
  });

  it('aborting after open is ignored', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    const wss = new WebSocketServer({ server });
    wss.on('connection', (peer) => peer.on('message', (d) => peer.send(d)));
    defer(async () => {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });
    const controller = new AbortController();
    const ws = new WebSocket(urlOf(server, 'ws'), { http2: true, signal: controller.signal });
    await next(ws, 'open');
    let errors = 0;
    ws.on('error', () => errors++);
    controller.abort();
    ws.send('still here');
    const [data] = await next<[Buffer]>(ws, 'message');
    assert.equal(data.toString(), 'still here');
    const closing = recordClose(ws);
    ws.close(1000);
    assert.equal((await closing).code, 1000);
    assert.equal(errors, 0);
  });
});

describe('new WebSocketStream(url, { http2, signal })', () => {
  it("aborting before open rejects opened and closed with the signal's reason; already aborted too", async () => {
    const { server, streams } = await silentH2();
    const reason = new Error('too slow');
    const controller = new AbortController();
    const wss = new WebSocketStream(urlOf(server, 'ws'), { http2: true, signal: controller.signal });
    defer(() => wss.close());
    await within(
      new Promise<void>((resolve) => server.once('stream', () => resolve())),
      'the CONNECT to arrive',
    );
    const streamGone = next(streams[0] as ServerHttp2Stream, 'close');
    controller.abort(reason);
    await assert.rejects(within(wss.opened, 'opened'), (err) => err === reason);
    await assert.rejects(within(wss.closed, 'closed'), (err) => err === reason);
    await streamGone;
    const already = new WebSocketStream(urlOf(server, 'ws'), {
      http2: true,
      signal: AbortSignal.abort(reason),
    });
    await assert.rejects(within(already.opened, 'opened'), (err) => err === reason);
  });
});
