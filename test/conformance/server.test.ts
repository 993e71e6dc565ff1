// Conformance of the SERVER under test: the suite connects as a raw client (hand-made handshake, masked
// hand-built frames) to an echo server built with the implementation's WebSocketServer.
import { after, before, describe } from 'node:test';
import { name } from './impl.js';
import { connectRaw } from './raw-client.js';
import { declareCases } from './run-case.js';
import { type EchoServer, startEchoServer } from './subjects.js';

describe(`server conformance (${name})`, () => {
  // Cases without options share one server; each case still gets its own connection.
  let shared: EchoServer;
  before(async () => {
    shared = await startEchoServer();
  });
  after(() => shared.close());

  declareCases('server', async (c) => {
    const own = c.options ? await startEchoServer(c.options) : undefined;
    const peer = await connectRaw((own ?? shared).port);
    return {
      // §7.1.1: after the closing handshake (or after failing the connection) the server closes TCP.
      ctx: { peer, side: 'server', expectClosed: () => peer.expectTcpClosed() },
      cleanup: async () => {
        peer.destroy();
        await own?.close();
      },
    };
  });
});
