// Flash's socket policy file (legacy.flashPolicy): `<policy-file-request/>\0` as the first bytes of a
// connection gets the cross-domain-policy document and a NUL, then the connection closes; on a `port`
// server (LeanSockets or net.Sockets), on an attached http.Server, and on a dedicated policy server.
// With the option off, the request is refused as any malformed request.
import assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { createFlashPolicyServer, WebSocketServer } from '../../src/index.js';
import { flashPolicyDocument } from '../../src/protocol/flash-policy.js';
import { closeHttp, connected, defer, httpServer, next, runCleanups, serve } from '../node/helpers.js';
import { rawConnection } from './draft-clients.js';

afterEach(runCleanups);

const REQUEST = Buffer.from('<policy-file-request/>\0', 'latin1');

/** Sends the request (in pieces if asked) and returns all the server sent before closing. */
async function askPolicy(port: number, pieces = [REQUEST]): Promise<string> {
  const { socket, reader } = await rawConnection(port);
  for (const piece of pieces) socket.write(piece);
  return (await reader.closed()).toString('latin1');
}

function checkPolicy(answer: string, domain: string, ports: string): void {
  assert.ok(answer.endsWith('\0'), 'ends with a NUL');
  assert.match(answer, /^<\?xml version="1\.0"\?>\n<!DOCTYPE cross-domain-policy/);
  assert.ok(answer.includes(`<allow-access-from domain="${domain}" to-ports="${ports}"/>`), answer);
  assert.ok(answer.includes('</cross-domain-policy>'));
}

describe('Flash socket policy (legacy.flashPolicy)', () => {
  for (const leanSockets of [true, false]) {
    it(`on a port server's own port (leanSockets: ${leanSockets}), and WebSockets still open there`, async () => {
      const s = await serve({ leanSockets, legacy: { flashPolicy: true } });
      checkPolicy(await askPolicy(s.port), '*', String(s.port));
      // The request in pieces (a prefix waits for the rest).
      checkPolicy(
        await askPolicy(s.port, [REQUEST.subarray(0, 5), REQUEST.subarray(5, 20), REQUEST.subarray(20)]),
        '*',
        String(s.port),
      );
      const { ws } = await connected(s);
      assert.equal(ws.readyState, ws.OPEN);
    });
  }

  it('domains and ports are configurable, and checked (nothing unchecked goes into the XML)', async () => {
    const s = await serve({
      legacy: { flashPolicy: { domains: ['*.example.com'], ports: [8080, '9000-9010'] } },
    });
    checkPolicy(await askPolicy(s.port), '*.example.com', '8080,9000-9010');
    for (const flashPolicy of [
      { domains: ['"/><allow-access-from domain="*'] },
      { ports: ['80; rm'] },
      { domains: [] },
      'yes',
    ]) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, legacy: { flashPolicy } as never }),
        { code: 'WS_ERR_INVALID_ARGUMENT' },
        JSON.stringify(flashPolicy),
      );
    }
  });

  it('on an attached http.Server: the policy answered, other bad requests still get 400, HTTP still served', async () => {
    const { server, port } = await httpServer((_req, res) => res.end('plain http'));
    defer(() => closeHttp(server));
    const wss = new WebSocketServer({ server, legacy: { flashPolicy: true } });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    checkPolicy(await askPolicy(port), '*', String(port));
    const garbage = await askPolicy(port, [Buffer.from('\x16\x03\x01 not http\r\n\r\n')]);
    assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'plain http');
  });

  it('on a dedicated policy server (for port 843 or any other)', async () => {
    const policy = createFlashPolicyServer({ domains: ['example.com'], ports: [8080] });
    policy.listen(0, '127.0.0.1');
    await next(policy, 'listening');
    defer(() => closeHttp(policy as Server));
    const port = (policy.address() as AddressInfo).port;
    checkPolicy(await askPolicy(port), 'example.com', '8080');
    // Anything else: closed without an answer.
    assert.equal(await askPolicy(port, [Buffer.from('GET / HTTP/1.1\r\n\r\n')]), '');
    // A dedicated server cannot guess the ports: they must be given.
    assert.throws(() => createFlashPolicyServer({}), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });

  it('with the option off (the default), the request is refused as before: an unfinished head (408), 400 from node:http', async () => {
    // wskit's own reader waits for the end of a request line that never comes: the handshake timeout.
    const s = await serve({ handshakeTimeout: 100 });
    assert.match(await askPolicy(s.port), /^HTTP\/1\.1 408 /);
    const { server, port } = await httpServer();
    defer(() => closeHttp(server));
    const wss = new WebSocketServer({ server });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    assert.match(await askPolicy(port), /^HTTP\/1\.1 400 /);
  });

  it('the document itself', () => {
    const doc = flashPolicyDocument({ domains: ['a.example', '*'], ports: ['*'] }).toString('latin1');
    assert.equal(
      doc,
      '<?xml version="1.0"?>\n' +
        '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">\n' +
        '<cross-domain-policy>\n' +
        '<site-control permitted-cross-domain-policies="master-only"/>\n' +
        '<allow-access-from domain="a.example" to-ports="*"/>\n' +
        '<allow-access-from domain="*" to-ports="*"/>\n' +
        '</cross-domain-policy>\n\0',
    );
  });
});
