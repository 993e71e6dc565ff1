// Conformance of the CLIENT under test: an echo client built with the implementation's WebSocket connects
// to a scripted raw server (hand-made 101 answer, unmasked hand-built frames, client frames checked masked).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { name } from './impl.js';
import { RawServer } from './raw-server.js';
import { declareCases } from './run-case.js';
import { startEchoClient, withTimeout } from './subjects.js';

describe(`client conformance (${name})`, () => {
  declareCases('client', async (c) => {
    const server = await RawServer.listen();
    const client = startEchoClient(server.port, c.options);
    const cleanup = async () => {
      client.ws.terminate();
      await server.close();
    };
    try {
      const peer = await server.accept();
      await withTimeout(client.opened, "the client's 'open' event");
      return {
        ctx: {
          peer,
          side: 'client',
          // The server closes TCP (§7.1.1); the client must then report 'close', with the code of the Close
          // frame it received (§7.1.5) where the case knows it.
          expectClosed: async (code?: number) => {
            peer.end();
            await peer.expectTcpClosed();
            const closed = await withTimeout(client.closed, "the client's 'close' event");
            if (code !== undefined) assert.equal(closed.code, code, "code of the client's 'close' event");
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
