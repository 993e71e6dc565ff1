// WebSocketStream (the WHATWG API) on a wskit client: opened / closed, close({ closeCode, reason }),
// cancel and abort, the signal, errors with closeCode and reason.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocketError, WebSocketStream } from '../../src/index.js';
import { defer, recordClose, runCleanups, serve, type WebSocket, within } from '../node/helpers.js';

afterEach(runCleanups);

/** An echo server; each server-side connection is handed to `onConnection` too. */
async function echo(onConnection?: (ws: WebSocket) => void) {
  const s = await serve({
    perMessageDeflate: true,
    handleProtocols: (offered: Set<string>) => [...offered][0] ?? false,
  });
  s.wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
    onConnection?.(ws);
  });
  return s;
}

function stream(url: string, options?: ConstructorParameters<typeof WebSocketStream>[1]): WebSocketStream {
  const wss = new WebSocketStream(url, options);
  defer(() => {
    try {
      wss.close();
    } catch {}
  });
  return wss;
}

describe('WebSocketStream', () => {
  it('opens with readable, writable, extensions and protocol; strings and bytes round-trip', async () => {
    const s = await echo();
    const wss = stream(`${s.url}/x`, { protocols: ['chat', 'other'] });
    assert.equal(wss.url, `${s.url}/x`);
    const { readable, writable, extensions, protocol } = await within(wss.opened, 'opened');
    assert.equal(protocol, 'chat');
    assert.equal(extensions, 'permessage-deflate');
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('héllo');
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(new Uint16Array([0x0201]).buffer);
    const view = new DataView(new ArrayBuffer(8), 2, 3);
    view.setUint8(0, 9);
    await writer.write(view);
    assert.deepEqual((await reader.read()).value, 'héllo');
    const bytes = (await reader.read()).value;
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype, 'a Uint8Array, not a Buffer');
    assert.deepEqual([...(bytes as Uint8Array)], [1, 2, 3]);
    assert.deepEqual([...((await reader.read()).value as Uint8Array)], [1, 2]);
    assert.deepEqual([...((await reader.read()).value as Uint8Array)], [9, 0, 0]);
  });

  it('a write copies its bytes: the caller may reuse the buffer at once', async () => {
    const s = await echo();
    const { readable, writable } = await stream(s.url).opened;
    const writer = writable.getWriter();
    const buf = new Uint8Array([7, 7]);
    const written = writer.write(buf);
    buf.fill(0);
    await written;
    assert.deepEqual([...((await readable.getReader().read()).value as Uint8Array)], [7, 7]);
  });

  it('rejects a write of something other than a string or bytes, and errors the writable', async () => {
    const s = await echo();
    const { writable } = await stream(s.url).opened;
    const writer = writable.getWriter();
    await assert.rejects(writer.write(42 as never), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });

  it('close({ closeCode, reason }) sends them; closed resolves with what the server answered', async () => {
    let serverClose: Promise<{ code: number; reason: string }> | undefined;
    const s = await echo((ws) => {
      serverClose = recordClose(ws);
    });
    const wss = stream(s.url);
    await wss.opened;
    wss.close({ closeCode: 3456, reason: 'pizza' });
    assert.deepEqual(await within(wss.closed, 'closed'), { closeCode: 3456, reason: 'pizza' });
    assert.deepEqual(await serverClose, { code: 3456, reason: 'pizza' });
  });

  it('close() and close({}) send an empty Close frame (1005); a reason alone means 1000', async () => {
    const s = await echo();
    for (const [info, expected] of [
      [undefined, { closeCode: 1005, reason: '' }],
      [{}, { closeCode: 1005, reason: '' }],
      [{ reason: '' }, { closeCode: 1005, reason: '' }],
      [{ reason: 'non-empty' }, { closeCode: 1000, reason: 'non-empty' }],
    ] as const) {
      const wss = stream(s.url);
      await wss.opened;
      wss.close(info);
      assert.deepEqual(await within(wss.closed, 'closed'), expected);
    }
  });

  it('close() refuses codes other than 1000 and 3000-4999, reasons over 123 bytes, non-objects', async () => {
    const s = await echo();
    const wss = stream(s.url);
    await wss.opened;
    for (const closeCode of [999, 1001, 1005, 2999, 5000, 3000.5]) {
      assert.throws(() => wss.close({ closeCode }), { code: 'WS_ERR_INVALID_ARGUMENT' }, String(closeCode));
    }
    assert.throws(() => wss.close({ reason: '.'.repeat(124) }), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => wss.close(true as never), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });

  it('close() during the handshake rejects opened and closed', async () => {
    const s = await echo();
    const wss = stream(s.url);
    wss.close();
    await assert.rejects(wss.opened, WebSocketError);
    await assert.rejects(wss.closed, WebSocketError);
  });

  it('closing the writable closes cleanly; its promise resolves once the closing handshake is done', async () => {
    const s = await echo();
    const wss = stream(s.url);
    const { writable, readable } = await wss.opened;
    let closedFirst = false;
    wss.closed.then(() => {
      closedFirst = true;
    });
    await within(writable.getWriter().close(), 'writer.close()');
    assert.equal(closedFirst, true, 'closed had resolved: the handshake was done');
    assert.deepEqual(await wss.closed, { closeCode: 1005, reason: '' });
    assert.equal((await readable.getReader().read()).done, true);
  });

  for (const method of ['abort', 'cancel'] as const) {
    const side = method === 'abort' ? 'writable' : 'readable';
    it(`${method}() of the ${side} closes with a WebSocketError's closeCode and reason, or 1005`, async () => {
      const s = await echo();
      const run = async (reason: unknown) => {
        const wss = stream(s.url);
        const info = await wss.opened;
        await (info[side] as unknown as Record<string, (r: unknown) => Promise<void>>)[method]?.call(
          info[side],
          reason,
        );
        return within(wss.closed, 'closed');
      };
      const error = new WebSocketError('WS_ERR_INVALID_STATE', 'done', { closeCode: 4000, reason: 'bye' });
      assert.deepEqual(await run(error), { closeCode: 4000, reason: 'bye' });
      assert.deepEqual(await run(new Error('plain')), { closeCode: 1005, reason: '' });
      const invalid = new WebSocketError('WS_ERR_INVALID_STATE', 'x', { closeCode: 1001 });
      assert.deepEqual(await run(invalid), { closeCode: 1005, reason: '' }, 'an invalid code is ignored');
    });
  }

  it('the server closing cleanly ends the readable, errors the writable, resolves closed', async () => {
    const s = await echo((ws) => ws.close(4001, 'server says bye'));
    const wss = stream(s.url);
    const { readable, writable } = await wss.opened;
    assert.deepEqual(await within(wss.closed, 'closed'), { closeCode: 4001, reason: 'server says bye' });
    assert.equal((await readable.getReader().read()).done, true);
    await assert.rejects(writable.getWriter().write('late'), (err: WebSocketError) => {
      assert.equal(err.code, 'WS_ERR_NOT_OPEN');
      assert.equal(err.closeCode, 4001);
      assert.equal(err.reason, 'server says bye');
      return true;
    });
  });

  it('a connection lost without a closing handshake errors both streams and rejects closed (1006)', async () => {
    const s = await echo((ws) => ws.on('message', () => ws.terminate()));
    const wss = stream(s.url);
    const { readable, writable } = await wss.opened;
    const writer = writable.getWriter();
    await writer.write('go');
    const check = (err: WebSocketError) => {
      assert.equal(err.code, 'WS_ERR_ABNORMAL_CLOSURE');
      assert.equal(err.closeCode, 1006);
      assert.equal(err.reason, '');
      return true;
    };
    await assert.rejects(within(wss.closed, 'closed'), check);
    await assert.rejects(readable.getReader().read(), check);
    await assert.rejects(writer.closed, check);
  });

  it('a refused handshake rejects opened and closed with the handshake error (its status)', async () => {
    const s = await serve({ verifyClient: () => false });
    const wss = stream(s.url);
    await assert.rejects(wss.opened, { code: 'WS_ERR_HANDSHAKE_REJECTED', status: 401 });
    await assert.rejects(wss.closed, { code: 'WS_ERR_HANDSHAKE_REJECTED' });
  });

  it("the signal aborts the handshake: opened and closed reject with the signal's reason", async () => {
    const s = await echo();
    const reason = new Error('too slow');
    const controller = new AbortController();
    const wss = stream(s.url, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(wss.opened, (err) => err === reason);
    await assert.rejects(wss.closed, (err) => err === reason);
    const already = stream(s.url, { signal: AbortSignal.abort(reason) });
    await assert.rejects(already.opened, (err) => err === reason);
  });

  it('the signal is ignored once open', async () => {
    const s = await echo();
    const controller = new AbortController();
    const wss = stream(s.url, { signal: controller.signal });
    const { readable, writable } = await wss.opened;
    controller.abort();
    const writer = writable.getWriter();
    await writer.write('still open');
    assert.equal((await readable.getReader().read()).value, 'still open');
  });

  it('a reader that stops reading holds the server back; every message arrives once it reads', async () => {
    let peer: WebSocket | undefined;
    const s = await serve({ heartbeat: false });
    const connection = new Promise<void>((resolve) =>
      s.wss.on('connection', (ws: WebSocket) => {
        peer = ws;
        resolve();
      }),
    );
    const wss = stream(s.url, { readableHighWaterMark: 16 * 1024 });
    const { readable } = await wss.opened;
    await within(connection, 'the connection');
    const server = peer as WebSocket;
    const chunk = Buffer.alloc(128 * 1024, 2);
    let sent = 0;
    while (server.bufferedAmount < 1024 * 1024 && sent < 512) {
      server.send(chunk);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(server.bufferedAmount >= 1024 * 1024, `the server is held back (sent ${sent})`);
    const reader = readable.getReader();
    let bytes = 0;
    for (let i = 0; i < sent; i++)
      bytes += ((await within(reader.read(), 'a message')).value as Uint8Array).length;
    assert.equal(bytes, sent * chunk.length);
  });

  it('throws WS_ERR_INVALID_URL for a URL that is not ws:, wss:, http: or https:', () => {
    assert.throws(() => new WebSocketStream('ftp://example.com/'), { code: 'WS_ERR_INVALID_URL' });
    assert.throws(() => new WebSocketStream('ws://example.com/#frag'), { code: 'WS_ERR_INVALID_URL' });
    assert.throws(() => new WebSocketStream('ws://127.0.0.1:1/', { readableHighWaterMark: -1 }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /readableHighWaterMark/,
    });
  });
});
