// Chromium (Debian's, headless, driven by playwright-core) on an HTTPS origin served over HTTP/2 by a
// node:http2 server with wskit attached: the page opens wss:// to its own origin, and the WebSocket
// arrives at the server as an HTTP/2 stream (RFC 8441) of the page's session, as browsers do on
// HTTP/2 origins. The certificate is made at test time (--ignore-certificate-errors).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createSecureServer, type Http2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { WebSocketServer } from '../../src/index.js';
import type { Http2UpgradeRequest } from '../../src/node/http2/stream-request.js';
import { certificate, next, portOf, within } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><script>
window.result = new Promise((resolve, reject) => {
  const ws = new WebSocket('wss://' + location.host + '/ws', ['echo.v1']);
  ws.binaryType = 'arraybuffer';
  const got = [];
  ws.onopen = () => { ws.send('hello'); ws.send(new Uint8Array([1, 2, 3])); };
  ws.onmessage = (e) => {
    got.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)).join(','));
    if (got.length === 2) ws.close(1000, 'done');
  };
  ws.onclose = (e) => resolve({ got, code: e.code, protocol: ws.protocol, extensions: ws.extensions });
  ws.onerror = () => reject(new Error('WebSocket error'));
});
</script>`;

declare const window: { result: Promise<unknown> };

describe('Chromium on an HTTP/2 origin', () => {
  let browser: Browser;
  before(async () => {
    // Never skipped: the test command installs chromium (scripts/system-deps.mjs), as for the chat tests.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--ignore-certificate-errors'],
      timeout: 20_000,
    });
  });
  after(() => browser?.close());

  it("opens wss:// to its own origin as an HTTP/2 stream of the page's session (RFC 8441)", async () => {
    const { cert, key } = certificate();
    const server = createSecureServer({ cert, key, allowHTTP1: true }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    const sessions = new Set<Http2Session>();
    server.on('session', (s) => sessions.add(s));
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: true });
    const arrived = next<[unknown, Http2UpgradeRequest]>(wss, 'connection');
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`https://127.0.0.1:${portOf(server)}/`);
      const result = await within(
        page.evaluate(() => window.result),
        "the page's WebSocket",
      );
      const [, req] = await arrived;
      assert.equal(req.httpVersion, '2.0', 'the WebSocket came as an HTTP/2 stream');
      assert.equal(req.method, 'CONNECT');
      assert.equal(req.headers[':protocol'], 'websocket');
      assert.equal(sessions.size, 1, 'the page and its WebSocket shared one HTTP/2 session');
      const r = result as { got: string[]; code: number; protocol: string; extensions: string };
      assert.deepEqual(r.got, ['hello', '1,2,3']);
      assert.equal(r.code, 1000);
      assert.equal(r.protocol, 'echo.v1');
      assert.match(
        r.extensions,
        /^permessage-deflate; server_no_context_takeover; client_no_context_takeover$/,
      );
    } finally {
      await context.close();
      await new Promise((r) => wss.close(r));
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
