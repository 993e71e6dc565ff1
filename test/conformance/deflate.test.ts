// permessage-deflate conformance (RFC 7692; Autobahn groups 12 and 13), against both sides of the
// implementation. Server under test: the suite connects as a raw client that offers the case's
// parameters and checks the answer. Client under test: the client is configured with the case's
// parameters, the raw server checks its offer and answers. Either way the endpoint echoes every message
// (a text message starting with "plain:" with `compress: false`), and the case talks to it through a codec
// that keeps to the negotiated parameters.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type * as Ws from 'ws';
import type { Side } from './case.js';
import { answerFor, NO_TAKEOVER, offerFor, SuiteCodec } from './deflate.js';
import { type DeflateCase, paramsOfCase } from './deflate-case.js';
import { echo, GROUPS, perMessageDeflate, type Setup, sameParams } from './deflate-endpoint.js';
import { features, name, WebSocket, WebSocketServer } from './impl.js';
import { connectRaw } from './raw-client.js';
import { RawServer } from './raw-server.js';
import { withTimeout } from './subjects.js';

async function setupServer(c: DeflateCase): Promise<Setup> {
  const params = paramsOfCase(c);
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...c.options,
    perMessageDeflate: perMessageDeflate(c, params),
  } as Ws.ServerOptions);
  const open = new Set<Ws.WebSocket>();
  wss.on('connection', (ws) => {
    open.add(ws);
    echo(ws);
    ws.on('error', () => undefined); // provoked by many cases; the outcome is checked on the wire
    ws.on('close', () => open.delete(ws));
  });
  const closeServer = () => {
    for (const ws of open) ws.terminate();
    return withTimeout(new Promise<void>((resolve) => wss.close(() => resolve())), 'server.close()');
  };
  const codec = new SuiteCodec(params ?? NO_TAKEOVER, 'client');
  try {
    if (!wss.address()) await withTimeout(new Promise((r) => wss.once('listening', r)), "'listening'");
    const { port } = wss.address() as AddressInfo;
    const offer = c.offer ?? (params === null ? undefined : offerFor(params));
    const peer = await connectRaw(port, '/', { perMessageDeflate: offer });
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
  const server = await RawServer.listen({
    perMessageDeflate: params === null ? undefined : answerFor(params),
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, {
    ...c.options,
    perMessageDeflate: perMessageDeflate(c, params),
  } as Ws.ClientOptions);
  echo(ws);
  const errors: Error[] = [];
  ws.on('error', (err) => errors.push(err));
  const closed = new Promise<{ code: number }>((resolve) => ws.once('close', (code) => resolve({ code })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    closed.then(() => reject(new Error(`client closed before opening: ${errors.map(String).join('; ')}`)));
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

function skipReason(c: DeflateCase, side: Side): string | undefined {
  if (c.requiresFragmentSize && !features.fragmentSize) return `${name} has no fragmentSize option`;
  if (process.env.WSKIT_CONFORMANCE_RUN_DEVIATIONS === '1') return undefined;
  return c.skip?.(name, side);
}

for (const side of ['server', 'client'] as const) {
  describe(`${side} permessage-deflate conformance (${name})`, () => {
    for (const group of GROUPS) {
      describe(`${group.id} ${group.title}`, () => {
        for (const c of group.cases) {
          if (c.only && c.only !== side) continue;
          it(`${c.id} ${c.title}`, {
            skip: skipReason(c, side) ?? false,
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
