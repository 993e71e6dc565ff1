// wss:// through an https server, with a self-signed certificate made for the test by the openssl CLI.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { afterEach, before, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import { selfSignedCertificate } from './certificate.js';
import { client, closeHttp, defer, next, portOf, recordClose, runCleanups, WebSocket } from './helpers.js';

let cert: Buffer;
let key: Buffer;

before(() => {
  ({ cert, key } = selfSignedCertificate());
});
afterEach(runCleanups);

async function secureServer(): Promise<{ wss: WebSocketServer; server: Server; url: string }> {
  const server = createServer({ cert, key });
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  defer(() => closeHttp(server as never));
  const wss = new WebSocketServer({ server, verifyClient: (info: { secure: boolean }) => info.secure });
  defer(() => new Promise((resolve) => wss.close(resolve)));
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return { wss, server, url: `wss://127.0.0.1:${portOf(server)}` };
}

describe('wss://', () => {
  it('a client trusting the certificate (ca) connects, exchanges messages and closes cleanly', async () => {
    const { wss, url } = await secureServer();
    const connection = next<[WebSocket]>(wss, 'connection');
    const ws = client(`${url}/secure`, { ca: cert });
    await next(ws, 'open');
    const [peer] = await connection;
    assert.equal(ws.url, `${url}/secure`);
    assert.equal((ws._socket as { encrypted?: boolean }).encrypted, true);

    const big = Buffer.alloc(300 * 1024, 7);
    for (const payload of ['secret ✓', big]) {
      const echo = next<[Buffer, boolean]>(ws, 'message');
      ws.send(payload);
      const [data, isBinary] = await echo;
      assert.equal(isBinary, typeof payload !== 'string');
      assert.ok(data.equals(Buffer.from(payload)));
    }

    const atServer = recordClose(peer);
    const atClient = recordClose(ws);
    ws.close(1000, 'done');
    assert.deepEqual(await atServer, { code: 1000, reason: 'done' });
    assert.deepEqual(await atClient, { code: 1000, reason: 'done' });
  });

  it('servername localhost matches the certificate too', async () => {
    const { url } = await secureServer();
    const ws = client(url, { ca: cert, servername: 'localhost' });
    await next(ws, 'open');
  });

  it('rejectUnauthorized: false connects without the ca', async () => {
    const { url } = await secureServer();
    const ws = client(url, { rejectUnauthorized: false });
    await next(ws, 'open');
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('an untrusted certificate fails the connection (error, then close 1006)', async () => {
    const { url, wss } = await secureServer();
    let connections = 0;
    wss.on('connection', () => connections++);
    const ws = client(url);
    const error = next<[Error & { code?: string }]>(ws, 'error');
    const closed = recordClose(ws);
    const [err] = await error;
    assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal((await closed).code, 1006);
    assert.equal(connections, 0);
  });

  it('a plain ws:// client to the TLS port fails without harming the server', async () => {
    const { url } = await secureServer();
    const ws = client(url.replace('wss:', 'ws:'));
    const closed = recordClose(ws);
    assert.equal((await closed).code, 1006);
    const ok = client(url, { ca: cert });
    await next(ok, 'open');
  });
});
