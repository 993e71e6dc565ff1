// test/conformance's Autobahn-style cases (groups 1-7, 9, 10) over HTTP/2 streams (RFC 8441), against
// both sides: wskit's server on an h2c port (every case a new stream of one shared session), and
// wskit's client with `http2: true` against a raw HTTP/2 server. The cases, their expectations and
// the strict frame parser are the conformance suite's own; only the carrier changes.
import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe } from 'node:test';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import type { CaseOptions } from '../conformance/case.js';
import { declareCases } from '../conformance/run-case.js';
import { withTimeout } from '../conformance/subjects.js';
import { connectRawH2, RawH2Server, rawSession } from './raw-h2.js';

interface H2EchoServer {
  session: ClientHttp2Session;
  close(): Promise<void>;
}

async function startH2EchoServer(options: CaseOptions = {}): Promise<H2EchoServer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, ...options });
  const open = new Set<WebSocket>();
  server.on('connection', (ws) => {
    open.add(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => undefined);
    ws.on('close', () => open.delete(ws));
  });
  await withTimeout(new Promise((r) => server.once('listening', r)), "'listening'");
  const session = await rawSession((server.address() as AddressInfo).port);
  return {
    session,
    close: async () => {
      session.destroy();
      for (const ws of open) ws.terminate();
      await withTimeout(new Promise<void>((r) => server.close(() => r())), 'server.close()');
    },
  };
}

describe('server conformance over HTTP/2 streams (wskit)', () => {
  let shared: H2EchoServer;
  before(async () => {
    shared = await startH2EchoServer();
  });
  after(() => shared.close());

  declareCases('server', async (c) => {
    const own = c.options ? await startH2EchoServer(c.options) : undefined;
    const peer = await connectRawH2((own ?? shared).session);
    return {
      // The server ends its stream (END_STREAM) after the closing handshake, as it closes TCP over HTTP/1.1.
      ctx: { peer, side: 'server', expectClosed: () => peer.expectTcpClosed() },
      cleanup: async () => {
        peer.destroy();
        await own?.close();
      },
    };
  });
});

describe('client conformance over HTTP/2 streams (wskit, http2: true)', () => {
  declareCases('client', async (c) => {
    const server = await RawH2Server.listen();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, { http2: true, ...c.options });
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      closed.then(() => reject(new Error('client closed before opening')));
    });
    opened.catch(() => undefined);
    const cleanup = async () => {
      ws.terminate();
      await server.close();
    };
    try {
      const peer = await server.accept();
      await withTimeout(opened, "the client's 'open' event");
      return {
        ctx: {
          peer,
          side: 'client',
          expectClosed: async (code?: number) => {
            peer.end();
            await peer.expectTcpClosed();
            const got = await withTimeout(closed, "the client's 'close' event");
            if (code !== undefined) assert.equal(got, code, "code of the client's 'close' event");
          },
        },
        cleanup,
      };
    } catch (err) {
      await cleanup();
      throw err;
    }
  });
});
