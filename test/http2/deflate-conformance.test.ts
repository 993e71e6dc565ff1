// test/conformance's permessage-deflate cases (RFC 7692; Autobahn groups 12 and 13) over HTTP/2
// streams (RFC 8441), against both sides: wskit's server on an h2c port, the suite offering each
// case's parameters on a new stream of a session per case; wskit's client with `http2: true` against
// a raw HTTP/2 server answering them. The cases, the suite's codec and its checks are the conformance
// suite's own; only the carrier changes.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { answerFor, NO_TAKEOVER, offerFor, SuiteCodec } from '../conformance/deflate.js';
import { type DeflateCase, paramsOfCase } from '../conformance/deflate-case.js';
import { echo, GROUPS, perMessageDeflate, type Setup, sameParams } from '../conformance/deflate-endpoint.js';
import { withTimeout } from '../conformance/subjects.js';
import { connectRawH2, RawH2Server, rawSession } from './raw-h2.js';

async function setupServer(c: DeflateCase): Promise<Setup> {
  const params = paramsOfCase(c);
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    http2: true,
    ...c.options,
    perMessageDeflate: perMessageDeflate(c, params),
  });
  const open = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    open.add(ws);
    echo(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => open.delete(ws));
  });
  const codec = new SuiteCodec(params ?? NO_TAKEOVER, 'client');
  let session: Awaited<ReturnType<typeof rawSession>> | undefined;
  const closeServer = () => {
    session?.destroy();
    for (const ws of open) ws.terminate();
    return withTimeout(new Promise<void>((resolve) => wss.close(() => resolve())), 'server.close()');
  };
  try {
    await withTimeout(new Promise((r) => wss.once('listening', r)), "'listening'");
    session = await rawSession((wss.address() as AddressInfo).port);
    const offer = c.offer ?? (params === null ? undefined : offerFor(params));
    const peer = await connectRawH2(session, '/', { perMessageDeflate: offer });
    if (c.offer === undefined && params !== null) {
      sameParams(peer.extensions.answer, answerFor(params), 'the answer to the offer');
    }
    return {
      ctx: { peer, side: 'server', expectClosed: () => peer.expectTcpClosed(), params, codec },
      cleanup: async () => {
        peer.destroy();
        codec.close();
        await closeServer();
      },
    };
  } catch (err) {
    codec.close();
    await closeServer();
    throw err;
  }
}

async function setupClient(c: DeflateCase): Promise<Setup> {
  const params = paramsOfCase(c);
  const server = await RawH2Server.listen({
    perMessageDeflate: params === null ? undefined : answerFor(params),
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, {
    http2: true,
    ...c.options,
    perMessageDeflate: perMessageDeflate(c, params),
  });
  echo(ws);
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number }>((resolve) => ws.once('close', (code) => resolve({ code })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    closed.then(() => reject(new Error('client closed before opening')));
  });
  opened.catch(() => undefined);
  const codec = new SuiteCodec(params ?? NO_TAKEOVER, 'server');
  const cleanup = async () => {
    ws.terminate();
    codec.close();
    await server.close();
  };
  try {
    const peer = await server.accept();
    await withTimeout(opened, "the client's 'open' event");
    if (params !== null) sameParams(peer.extensions.offer, offerFor(params), "the client's offer");
    const expectClosed = async (code?: number) => {
      peer.end();
      await peer.expectTcpClosed();
      const info = await withTimeout(closed, "the client's 'close' event");
      if (code !== undefined) assert.equal(info.code, code, "code of the client's 'close' event");
    };
    return { ctx: { peer, side: 'client', expectClosed, params, codec }, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

for (const side of ['server', 'client'] as const) {
  describe(`${side} permessage-deflate conformance over HTTP/2 streams (wskit)`, () => {
    for (const group of GROUPS) {
      describe(`${group.id} ${group.title}`, () => {
        for (const c of group.cases) {
          if (c.only && c.only !== side) continue;
          it(`${c.id} ${c.title}`, {
            skip: c.skip?.('wskit', side) ?? false,
            timeout: c.timeout ?? 10_000,
          }, async () => {
            const { ctx, cleanup } = await (side === 'server' ? setupServer(c) : setupClient(c));
            try {
              await c.run(ctx);
            } finally {
              await cleanup();
            }
          });
        }
      });
    }
  });
}
