// The chat surviving the death of a server, in Chromium: two `wskit chat --redis` processes share a
// real redis-server; Ada's page reaches them through a small TCP forwarder standing in for a load
// balancer (to the first server while it lives, then to the second). Linus and Mia keep talking on
// the second server while Ada's server is killed (SIGKILL, mid-stream): her page reconnects through the
// same address and shows every message said meanwhile, once each, in order; who is online survives;
// a newcomer sees the room's recent history. Every wait has a deadline; nothing sleeps.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type CliProcess, wskit } from '../cli/helpers.js';
import { ChatClient, ensureBuilt, freePort, startRedis } from './helpers.js';

declare const document: {
  querySelectorAll(
    selector: string,
  ): Iterable<{ textContent: string | null; dataset: Record<string, string> }>;
};

const CHROMIUM = '/usr/bin/chromium';
const WAIT = 10_000;

/** A TCP forwarder: each connection goes to the first backend that accepts it. */
class Forwarder {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly backends: number[]) {
    this.server = createServer((client) => this.forward(client, 0));
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, index: number): void {
    const port = this.backends[index];
    if (port === undefined) {
      client.destroy();
      return;
    }
    client.pause();
    const upstream = tcpConnect(port, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('error', () => {
      this.sockets.delete(upstream);
      if (connected) client.destroy();
      else this.forward(client, index + 1); // refused: the next backend
    });
    upstream.once('close', () => {
      this.sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.once('error', () => upstream.destroy());
    client.once('close', () => {
      this.sockets.delete(client);
      if (connected) upstream.destroy();
    });
  }
}

async function chatProcess(
  redis: string,
  extra: string[],
): Promise<{ cli: CliProcess; url: string; port: number }> {
  const cli = wskit('chat', '--port', '0', '-q', '--redis', redis, '--history', '50', ...extra);
  const [, url] = await cli.waitForLine('stdout', /listening on (\S+)$/, WAIT);
  await cli.waitForLine('stdout', /rooms shared through redis:/, WAIT);
  return { cli, url: url!, port: Number(new URL(url!).port) };
}

/** The texts of the messages a page shows, in order, and their offsets. */
async function shown(page: Page): Promise<{ texts: string[]; offsets: number[] }> {
  return page.evaluate(() => {
    const items = [...document.querySelectorAll('#messages .message')];
    return {
      texts: items.map(
        (i) =>
          [
            ...(
              i as unknown as { querySelectorAll(s: string): Iterable<{ textContent: string | null }> }
            ).querySelectorAll('.text'),
          ][0]?.textContent ?? '',
      ),
      offsets: items.map((i) => Number(i.dataset.offset)),
    };
  });
}

async function waitShown(page: Page, text: string): Promise<void> {
  await page
    .locator('#messages .message .text')
    .getByText(text, { exact: true })
    .first()
    .waitFor({ timeout: WAIT });
}

async function waitForPeople(page: Page, names: string[]): Promise<void> {
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll('#people .person-name')].map((e) => e.textContent).join() === expected,
    names.join(),
    { timeout: WAIT },
  );
}

describe('the chat page when its server dies (Chromium, Redis, two servers, a forwarder)', {
  timeout: 180_000,
}, () => {
  let browser: Browser;
  let redis: { url: string; process: ChildProcess };
  const contexts: BrowserContext[] = [];
  const processes: CliProcess[] = [];
  const clients: ChatClient[] = [];
  let forwarder: Forwarder | undefined;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
    ensureBuilt();
    redis = await startRedis();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
      timeout: 20_000,
    });
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await forwarder?.close();
    for (const p of processes) p.kill('SIGKILL');
    redis?.process.kill();
  });

  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, locale: 'en-US' });
    contexts.push(context);
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url);
    return { page, errors };
  }

  async function join(page: Page, name: string): Promise<void> {
    await page.fill('#name', name);
    await page.click('#join-button');
    await page.locator('#chat-view').waitFor({ state: 'visible' });
  }

  it('reconnects through the same address and shows every message said meanwhile, once, in order', async () => {
    const front = await freePort();
    const origin = `http://127.0.0.1:${front}`;
    const one = await chatProcess(redis.url, ['--allow-origin', origin]);
    const two = await chatProcess(redis.url, ['--allow-origin', origin]);
    processes.push(one.cli, two.cli);
    forwarder = new Forwarder([one.port, two.port]);
    await forwarder.listen(front);

    // Ada through the forwarder (on server one); Grace and Linus on server two.
    const ada = await open(`${origin}/?room=failover`);
    await join(ada.page, 'Ada');
    const grace = await open(`${two.url}?room=failover`);
    await join(grace.page, 'Grace');
    const linus = await ChatClient.open(`${two.url.replace('http', 'ws')}ws`);
    const mia = await ChatClient.open(`${two.url.replace('http', 'ws')}ws`);
    clients.push(linus, mia);
    await linus.join('failover', 'Linus');
    await mia.join('failover', 'Mia');
    await waitForPeople(ada.page, ['Ada', 'Grace', 'Linus', 'Mia']);

    // Linus and Mia take turns (each within the rate limit's burst of 10, however fast this runs).
    const said: string[] = [];
    const say = async (n: number) => {
      const text = `message ${n}`;
      const speaker = n % 2 === 0 ? mia : linus;
      said.push(text);
      speaker.send({ type: 'message', text });
      await speaker.next('message', (m) => m.text === text, WAIT);
    };
    for (let n = 1; n <= 5; n++) await say(n);
    await waitShown(ada.page, 'message 5');

    // Server one dies mid-stream: no closing handshake, no goodbye to Redis.
    one.cli.kill('SIGKILL');
    await ada.page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: WAIT });
    for (let n = 6; n <= 9; n++) await say(n); // said while Ada's page is away
    await ada.page.locator('#status[data-state="online"]').waitFor({ timeout: WAIT });
    for (let n = 10; n <= 11; n++) await say(n);
    await waitShown(ada.page, 'message 11');

    const after = await shown(ada.page);
    assert.deepEqual(after.texts, said, 'every message once, in order');
    assert.deepEqual(
      after.offsets,
      [...after.offsets].sort((a, b) => a - b),
    );
    assert.equal(new Set(after.offsets).size, after.offsets.length, 'no offset twice');

    // Presence survived: Ada is back in everyone's list, once.
    await waitForPeople(ada.page, ['Ada', 'Grace', 'Linus', 'Mia']);
    await waitForPeople(grace.page, ['Ada', 'Grace', 'Linus', 'Mia']);
    await ada.page.fill('#text', 'back, through the other server');
    await ada.page.press('#text', 'Enter');
    assert.equal(
      (await linus.next('message', (m) => m.text === 'back, through the other server', WAIT)).name,
      'Ada',
    );

    // A newcomer sees the recent history, in order.
    const zoe = await open(`${two.url}?room=failover`);
    await join(zoe.page, 'Zoe');
    await waitShown(zoe.page, 'back, through the other server');
    assert.deepEqual((await shown(zoe.page)).texts, [...said, 'back, through the other server']);
    assert.equal(await zoe.page.locator('#messages .message.history').count(), said.length + 1);
    for (const { errors } of [ada, grace, zoe]) assert.deepEqual(errors, []);
  });
});
