// Every bad argument of the public API throws a WebSocketError with code WS_ERR_INVALID_ARGUMENT (or
// WS_ERR_INVALID_URL) that names what is wrong, never a raw TypeError from deep inside.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { WebSocketError } from '../../src/index.js';
import { connected, runCleanups, serve, WebSocket, WebSocketServer } from './helpers.js';

afterEach(runCleanups);

function invalid(fn: () => unknown, mention: RegExp, code = 'WS_ERR_INVALID_ARGUMENT'): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebSocketError, `a WebSocketError, not ${String(err)}`);
    assert.equal(err.code, code);
    // ws's text is the message, wskit's naming of what is wrong may be in detail.
    assert.match(err.detail === undefined ? err.message : `${err.message} (${err.detail})`, mention);
    return true;
  });
}

describe('bad arguments', () => {
  it('server options of the wrong type name the option', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ port: 'eighty', noServer: undefined }, /port/],
      [{ port: 70_000 }, /port/],
      [{ noServer: true, path: 5 }, /path/],
      [{ noServer: true, handleProtocols: 'first' }, /handleProtocols/],
      [{ noServer: true, verifyClient: true }, /verifyClient/],
      [{ noServer: true, WebSocket: class {} }, /WebSocket/],
      [{ noServer: true, clientTracking: 'yes' }, /clientTracking/],
      [{ server: {} }, /server/],
      [{ noServer: true, maxHeaderSize: -1 }, /maxHeaderSize/],
      [{ noServer: true, maxPendingHandshakes: -1 }, /maxPendingHandshakes/],
      [{ noServer: true, inflateBudget: 'lots' }, /inflateBudget/],
      [{ noServer: true, readPauseBufferedAmount: Number.NaN }, /readPauseBufferedAmount/],
    ];
    for (const [options, mention] of bad) invalid(() => new WebSocketServer(options as never), mention);
    invalid(() => new WebSocketServer(null as never), /options must be an object/);
  });

  it('handleUpgrade() with a missing callback, head or request', () => {
    const wss = new WebSocketServer({ noServer: true });
    const req = { method: 'GET', headers: {} } as never;
    invalid(() => wss.handleUpgrade(req, new PassThrough(), Buffer.alloc(0), undefined as never), /cb/);
    invalid(() => wss.handleUpgrade(req, new PassThrough(), undefined as never, () => {}), /head/);
    invalid(() => wss.handleUpgrade(undefined as never, new PassThrough(), Buffer.alloc(0), () => {}), /req/);
    invalid(() => wss.handleUpgrade(req, null as never, Buffer.alloc(0), () => {}), /socket/);
  });

  it('client options and URLs of the wrong type', () => {
    invalid(() => new WebSocket('ws://127.0.0.1:1', { headers: 'x' } as never), /headers/);
    invalid(() => new WebSocket('ws://127.0.0.1:1', { handshakeTimeout: -5 }), /handshakeTimeout/);
    invalid(() => new WebSocket('ws://127.0.0.1:1', { finishRequest: 1 } as never), /finishRequest/);
    invalid(() => new WebSocket('ws://127.0.0.1:1', ['a b']), /subprotocol/);
    invalid(() => new WebSocket('not a url'), /URL/, 'WS_ERR_INVALID_URL');
    invalid(() => new WebSocket('ftp://x'), /protocol/, 'WS_ERR_INVALID_URL');
  });

  it('send, ping, close and subscribe with arguments of the wrong type', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s);
    invalid(() => ws.send(null as never), /Cannot send null/);
    invalid(() => ws.send({} as never), /Cannot send an object/);
    // A Blob is a payload too (as in ws 8.18+), held to the same 125 bytes.
    invalid(() => ws.ping(new Blob([Buffer.alloc(126)])), /125/);
    invalid(() => ws.ping(Buffer.alloc(126)), /125/);
    invalid(() => ws.close(1000, {} as never), /close reason/);
    invalid(() => ws.close('1000' as never), /close code/);
    invalid(() => ws.close(1005), /close code/);
    invalid(() => ws.close(1000, 'x'.repeat(124)), /123/);
    invalid(() => peer.subscribe(42 as never), /topic/);
    invalid(() => s.wss.publish('', 'x'), /topic/);
    // A typed array reason is its bytes (counted in bytes, not elements), which must be UTF-8.
    invalid(() => ws.close(1000, new Float32Array([1])), /UTF-8/);
    const bytes = new Uint16Array(new Uint8Array(Buffer.from('bye!')).buffer);
    const closed = new Promise<[number, Buffer]>((resolve) => peer.once('close', (c, r) => resolve([c, r])));
    ws.close(1000, bytes);
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'bye!');
  });
});
