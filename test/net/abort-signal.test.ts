// The signal option: aborting before or while connecting fails the handshake cleanly ('error' with
// WS_ERR_HANDSHAKE_ABORTED, then 'close' with 1006, the TCP connection closed); once open, it is ignored.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  client,
  closeHttp,
  defer,
  next,
  portOf,
  recordClose,
  runCleanups,
  serve,
  type WebSocket,
} from '../node/helpers.js';

afterEach(runCleanups);

async function failure(ws: WebSocket) {
  const closing = recordClose(ws);
  const [error] = await next<[Error & { code?: string }]>(ws, 'error');
  return { error, code: (await closing).code };
}

/** A TCP server that accepts and never answers: a handshake to it waits until aborted. */
async function silentServer() {
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (s: Socket) => {
    accepted.push(s);
    s.on('end', () => s.destroy());
  });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  defer(() => {
    for (const s of accepted) s.destroy();
    return closeHttp(server as never);
  });
  return { server, port: portOf(server) };
}

describe('signal', () => {
  it('an already aborted signal fails the handshake: WS_ERR_HANDSHAKE_ABORTED, then 1006', async () => {
    const s = await serve();
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const reason = new Error('not wanted');
    const ws = client(s.url, { signal: AbortSignal.abort(reason) });
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal(error.name, 'Error', "named 'Error', as ws's errors are");
    assert.equal(error.cause, reason);
    assert.equal(code, 1006);
    assert.equal(ws.readyState, ws.CLOSED);
    assert.equal(connections, 0);
  });

  it('aborting while the server has not answered closes the TCP connection', async () => {
    const { server, port } = await silentServer();
    const controller = new AbortController();
    const ws = client(`ws://127.0.0.1:${port}/`, { signal: controller.signal });
    const [socket] = await next<[Socket]>(server, 'connection');
    const serverSide = next(socket, 'close');
    const result = failure(ws);
    controller.abort();
    const { error, code } = await result;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_ABORTED');
    assert.equal((error.cause as Error).name, 'AbortError');
    assert.equal(code, 1006);
    await serverSide;
  });

  it('aborting after open is ignored: the connection stays open (close() closes it)', async () => {
    const s = await serve();
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => ws.send(d)));
    const controller = new AbortController();
    const ws = client(s.url, { signal: controller.signal });
    await next(ws, 'open');
    let errors = 0;
    ws.on('error', () => errors++);
    controller.abort();
    ws.send('still here');
    const [data] = await next<[Buffer]>(ws, 'message');
    assert.equal(data.toString(), 'still here');
    assert.equal(ws.readyState, ws.OPEN);
    const closing = recordClose(ws);
    ws.close(1000);
    assert.equal((await closing).code, 1000);
    assert.equal(errors, 0);
  });

  it('rejects a signal that is not an AbortSignal', () => {
    assert.throws(() => client('ws://127.0.0.1:1/', { signal: {} as AbortSignal }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});
