// wskit/client in a real browser (Debian's Chromium, headless, driven by playwright-core): the ES
// modules a page loads, the browser's own WebSocket, and its offline/online events (playwright's
// setOffline), against wskit's durable server. Messages published while the page is offline arrive
// once, in order, when it is back. Every wait has a deadline; nothing sleeps.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { StaticFiles } from '../../src/chat/static-files.js';
import { InMemoryBroker, WebSocketServer } from '../../src/index.js';
import { clientDir } from '../chat/helpers.js';

// What the page's functions see (tsconfig has no DOM types).
interface PageClient {
  state: string;
  on(type: string, listener: (e: unknown) => void): void;
  subscribe(
    topic: string,
    options: { onMessage: (m: { offset: number; data: unknown }) => void },
  ): {
    ready: Promise<unknown>;
  };
  publish(topic: string, data: unknown): Promise<{ offset: number }>;
}
declare const window: {
  wskitClient: { TopicsClient: new (url: string, options?: unknown) => PageClient };
  client: PageClient;
  got: unknown[];
  events: string[];
};
declare const location: { host: string };

const CHROMIUM = '/usr/bin/chromium';
const WAIT = 10_000;
/** Run in the page: a client that records what it gets and which events it emits. */
const SETUP = `(async () => {
  window.got = [];
  window.events = [];
  const client = new window.wskitClient.TopicsClient('ws://' + location.host + '/ws', { backoff: { min: 50, max: 200 } });
  window.client = client;
  for (const type of ['open', 'close', 'offline', 'online']) client.on(type, () => window.events.push(type));
  await client.subscribe('feed', { onMessage: (m) => window.got.push([m.offset, m.data]) }).ready;
  await client.publish('feed', 'from the page');
})()`;
const PAGE = `<!doctype html><meta charset="utf-8"><title>wskit/client</title>
<script type="module">import * as c from '/client/index.js'; window.wskitClient = c;</script>`;

describe('wskit/client in chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let http: Server;
  let wss: WebSocketServer;
  let url: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
    const files = new StaticFiles(await clientDir(), { prefix: '/client', index: false });
    http = createServer((req, res) => {
      if (req.url?.startsWith('/client/')) return files.handle(req, res);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    });
    wss = new WebSocketServer({ server: http, path: '/ws', broker: new InMemoryBroker(), durable: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox'],
      timeout: 20_000,
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => wss?.close(resolve));
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('runs on the browser WebSocket; offline holds the retries, online reconnects and resumes: nothing lost or repeated', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => window.wskitClient !== undefined, undefined, { timeout: WAIT });
    // A string, not a function: tsx would add its helpers (__name) to a function's text.
    await page.evaluate(SETUP);
    for (let i = 1; i <= 3; i++) await wss.durable!.publish('feed', JSON.stringify(`server ${i}`));
    await page.waitForFunction(() => window.got.length === 4, undefined, { timeout: WAIT });

    await context.setOffline(true);
    await page.waitForFunction(() => window.events.includes('offline'), undefined, { timeout: WAIT });
    // The connection drops while the browser is offline: no retry until it is back.
    for (const ws of wss.clients) ws.terminate();
    await page.waitForFunction(() => window.events.includes('close'), undefined, { timeout: WAIT });
    assert.equal(await page.evaluate(() => window.client.state), 'offline');
    for (let i = 4; i <= 6; i++) await wss.durable!.publish('feed', JSON.stringify(`server ${i}`));
    await context.setOffline(false);
    await page.waitForFunction(() => window.events.includes('online'), undefined, { timeout: WAIT });
    for (let i = 7; i <= 8; i++) await wss.durable!.publish('feed', JSON.stringify(`server ${i}`));
    await page.waitForFunction(() => window.got.length >= 9, undefined, { timeout: WAIT });
    const got = await page.evaluate(() => window.got);
    assert.deepEqual(got, [
      [1, 'from the page'],
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => [i + 1, `server ${i}`]),
    ]);
    assert.deepEqual(await page.evaluate(() => window.events), [
      'open',
      'offline',
      'close',
      'online',
      'open',
    ]);
    assert.equal(await page.evaluate(() => window.client.state), 'open');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
