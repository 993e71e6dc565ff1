// The chat page in a real browser: Debian's chromium, headless, driven by playwright-core. Two (or
// three) people chat; the page survives a server restart; bad input is refused visibly; HTML from
// others stays text. Screenshots go to test-artifacts/. Every wait has a deadline; nothing sleeps.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { ChatServer } from '../../src/chat/chat-server.js';
import { cleanup, clientDir, startChat as startChatServer } from './helpers.js';

// The functions given to page.evaluate() and friends run in the browser; tsconfig has no DOM types,
// so the few browser globals they use are declared here, loosely.
interface PageElement {
  textContent: string | null;
}
declare const window: { violations?: string[]; pwned?: boolean; innerWidth: number };
declare const document: {
  addEventListener(
    type: string,
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
  querySelectorAll(selector: string): Iterable<PageElement>;
  documentElement: { scrollWidth: number };
};
declare const location: { host: string };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WAIT = 5_000;
const DESKTOP = { width: 1100, height: 700 };
const PHONE = { width: 390, height: 780 };

let browser: Browser;
let client: string;

/** A chat server whose page loads wskit/client freshly compiled from src/client/. */
function startChat(options: Parameters<typeof startChatServer>[0] = {}): Promise<ChatServer> {
  return startChatServer({ clientDir: client, ...options });
}
const contexts = new Set<BrowserContext>();

/** Uncaught errors and Content-Security-Policy violations of a page, checked at the end of a test. */
interface Watched {
  page: Page;
  errors: string[];
}

async function openPage(server: ChatServer, path = '', viewport = DESKTOP): Promise<Watched> {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: viewport === PHONE ? 2 : 1,
    locale: 'en-US',
    reducedMotion: 'reduce',
  });
  contexts.add(context);
  context.setDefaultTimeout(WAIT);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { violations: string[] }).violations ??= [];
      (window as unknown as { violations: string[] }).violations.push(
        `${e.violatedDirective} ${e.blockedURI}`,
      );
    });
  });
  const page = await context.newPage();
  const watched: Watched = { page, errors: [] };
  page.on('pageerror', (err) => watched.errors.push(err.message));
  await page.goto(`${server.url}${path}`);
  return watched;
}

async function noErrors(...pages: Watched[]): Promise<void> {
  for (const { page, errors } of pages) {
    const violations = await page.evaluate(() => window.violations);
    assert.deepEqual(errors, [], 'uncaught errors in the page');
    assert.equal(violations, undefined, `Content-Security-Policy violations: ${violations}`);
  }
}

async function join(page: Page, name: string): Promise<void> {
  await page.fill('#name', name);
  await page.click('#join-button');
  await page.locator('#chat-view').waitFor({ state: 'visible' });
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Waits until the page shows a message with exactly this text; returns its author. */
async function seen(page: Page, text: string): Promise<string> {
  const message = page.locator('#messages .message').filter({
    has: page.locator('.text').getByText(text, { exact: true }),
  });
  await message.last().waitFor();
  return (await message.last().locator('.author').textContent()) ?? '';
}

async function people(page: Page): Promise<string[]> {
  return page.locator('#people .person-name').allTextContents();
}

async function waitForPeople(page: Page, names: string[]): Promise<void> {
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll('#people .person-name')].map((e) => e.textContent).join() === expected,
    names.join(),
    { timeout: WAIT },
  );
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png` });
}

describe('the chat page in chromium', { timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
    mkdirSync(ARTIFACTS, { recursive: true });
    client = await clientDir();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
  });

  afterEach(async () => {
    await Promise.all([...contexts].map((c) => c.close()));
    contexts.clear();
    await cleanup();
  });

  after(async () => {
    await browser?.close();
  });

  it('two people chat in the room named in the URL, then a third joins from a phone', async () => {
    const server = await startChat();
    const ada = await openPage(server, '?room=garden');
    const grace = await openPage(server, '#garden');
    assert.equal(await grace.page.inputValue('#room'), 'garden');
    assert.equal(await ada.page.getAttribute('#status', 'data-state'), 'online');

    await join(ada.page, 'Ada');
    assert.equal(await ada.page.textContent('#room-title'), '#garden');
    await join(grace.page, 'Grace');
    assert.equal(new URL(grace.page.url()).search, '?room=garden');
    await ada.page.locator('#messages .notice', { hasText: 'Grace joined' }).waitFor();
    await waitForPeople(ada.page, ['Ada', 'Grace']);
    assert.deepEqual(await people(grace.page), ['Ada', 'Grace']);
    assert.equal(await grace.page.textContent('#people .me .person-name'), 'Grace');

    await say(ada.page, 'Hi Grace! The new build is up, can you try the reconnection?');
    assert.equal(
      await seen(grace.page, 'Hi Grace! The new build is up, can you try the reconnection?'),
      'Ada',
    );
    await say(grace.page, 'On it. I restarted the server twice and the page came back both times.');
    assert.equal(
      await seen(ada.page, 'On it. I restarted the server twice and the page came back both times.'),
      'Grace',
    );
    await say(grace.page, 'Line breaks work too:\n- rooms\n- presence\n- backoff with jitter');
    await seen(ada.page, 'Line breaks work too:\n- rooms\n- presence\n- backoff with jitter');
    await say(ada.page, 'Lovely. Shipping it!');
    await seen(grace.page, 'Lovely. Shipping it!');
    assert.equal(await ada.page.locator('#messages .message.mine').count(), 2);
    const time = grace.page.locator('#messages .message time').first();
    assert.match((await time.getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    await screenshot(grace.page, 'chat-desktop');

    const linus = await openPage(server, '?room=garden', PHONE);
    await join(linus.page, 'Linus');
    await waitForPeople(grace.page, ['Ada', 'Grace', 'Linus']);
    await say(grace.page, 'Welcome, Linus! This is the phone layout.');
    await seen(linus.page, 'Welcome, Linus! This is the phone layout.');
    await say(linus.page, 'Fits nicely on a small screen.');
    await seen(ada.page, 'Fits nicely on a small screen.');
    const overflow = await linus.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
    await screenshot(linus.page, 'chat-mobile');
    await noErrors(ada, grace, linus);
  });

  it('keeps the list of people from changes; refuses a full room and a look-alike name', async () => {
    const server = await startChat({ maxRoomMembers: 2 });
    const ada = await openPage(server, '?room=small');
    const grace = await openPage(server, '?room=small');
    const third = await openPage(server, '?room=small');
    await join(ada.page, 'Ada');
    await join(grace.page, 'Zoë');
    await waitForPeople(ada.page, ['Ada', 'Zoë']);

    await third.page.fill('#name', 'Linus');
    await third.page.click('#join-button');
    await third.page.locator('#join-error', { hasText: '#small is full' }).waitFor();
    assert.equal(await third.page.isVisible('#chat-view'), false);

    await grace.page.click('#leave-button');
    await waitForPeople(ada.page, ['Ada']);
    assert.equal(await ada.page.textContent('#people-count'), '1');

    await third.page.fill('#name', '\u0410da'); // a Cyrillic А
    await third.page.click('#join-button');
    await third.page.locator('#join-error', { hasText: 'already called Ada' }).waitFor();
    await join(third.page, 'Linus');
    await waitForPeople(ada.page, ['Ada', 'Linus']);
    await waitForPeople(third.page, ['Ada', 'Linus']);
    assert.equal(await ada.page.textContent('#people-count'), '2');
    await noErrors(ada, grace, third);
  });

  it('shows HTML from others as text, in names and messages', async () => {
    const server = await startChat();
    const eve = await openPage(server, '?room=xss');
    const bob = await openPage(server, '?room=xss');
    await join(bob.page, 'Bob');
    await join(eve.page, '<b>Eve</b>');
    const payload = '<img src=x onerror="window.pwned=true"><script>window.pwned=true</script>';
    await say(eve.page, payload);
    assert.equal(await seen(bob.page, payload), '<b>Eve</b>');
    await waitForPeople(bob.page, ['<b>Eve</b>', 'Bob']);
    assert.equal(
      await bob.page.locator('#messages img, #messages script, #messages b, #people b').count(),
      0,
    );
    assert.equal(await bob.page.evaluate(() => window.pwned), undefined);
    await bob.page.locator('#messages .notice', { hasText: '<b>Eve</b> joined' }).waitFor();
    await noErrors(eve, bob);
  });

  it('shows the server refusing an over-long message, a taken name, and garbage from a raw socket', async () => {
    const server = await startChat();
    const ada = await openPage(server, '?room=limits');
    const grace = await openPage(server, '?room=limits');
    await join(ada.page, 'Ada');

    // A taken name: the join form says so.
    await grace.page.fill('#name', 'ada');
    await grace.page.click('#join-button');
    await grace.page.locator('#join-error', { hasText: 'already called Ada' }).waitFor();
    assert.equal(await grace.page.isVisible('#chat-view'), false);
    await join(grace.page, 'Grace');

    // Text over the limit: the counter warns, the server refuses, the page shows why and keeps the text.
    const long = 'x'.repeat(1001);
    await ada.page.fill('#text', long);
    assert.equal(await ada.page.textContent('#counter'), '1001 / 1000');
    assert.ok(await ada.page.locator('#counter.over').isVisible());
    await ada.page.press('#text', 'Enter');
    await ada.page.locator('#chat-error', { hasText: 'too long: 1001 characters, at most 1000' }).waitFor();
    assert.equal(await ada.page.inputValue('#text'), long);
    await screenshot(ada.page, 'chat-error');
    await say(ada.page, 'short enough');
    await seen(grace.page, 'short enough');
    assert.equal(await grace.page.locator('#messages .message').count(), 1, 'the long one never arrived');
    assert.equal(await ada.page.isVisible('#chat-error'), false, 'the error goes once a message is sent');

    // A raw WebSocket from the page (same origin) sending garbage gets an error message back.
    const answers = await ada.page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/ws`);
          const got: string[] = [];
          ws.onopen = () => {
            ws.send('{"type": "join", oops');
            ws.send(JSON.stringify({ type: 'message', text: 'not joined' }));
          };
          ws.onmessage = (e) => {
            got.push(e.data);
            if (got.length === 2) {
              ws.close();
              resolve(got);
            }
          };
          ws.onerror = () => reject(new Error('the WebSocket failed'));
        }),
    );
    assert.deepEqual(
      answers.map((a) => JSON.parse(a).code),
      ['bad_json', 'not_joined'],
    );
    await noErrors(ada, grace);
  });

  it('reconnects after the server restarts, joins the room again, and can send', async () => {
    const first = await startChat();
    const port = first.port;
    const ada = await openPage(first, '?room=restart');
    const grace = await openPage(first, '?room=restart');
    await join(ada.page, 'Ada');
    await join(grace.page, 'Grace');
    await waitForPeople(ada.page, ['Ada', 'Grace']);

    await first.close();
    await ada.page.locator('#status[data-state="reconnecting"]').waitFor();
    await grace.page.locator('#status[data-state="reconnecting"]').waitFor();
    assert.match((await ada.page.textContent('#status-text')) ?? '', /Reconnecting|Connecting/);
    await screenshot(ada.page, 'chat-reconnecting');
    assert.ok(await ada.page.isDisabled('#send-button'), 'no sending while disconnected');

    const second = await startChat({ port });
    assert.equal(second.port, port);
    // Backoff: the first retries come within a second or two; allow for a few.
    await ada.page.locator('#status[data-state="online"]').waitFor({ timeout: 15_000 });
    await grace.page.locator('#status[data-state="online"]').waitFor({ timeout: 15_000 });
    await ada.page.locator('#messages .notice', { hasText: 'You are back online' }).waitFor();
    await grace.page.locator('#messages .notice', { hasText: 'You are back online' }).waitFor();
    // The new server (no Redis) has a new history: wskit/client reports the gap, the page says so.
    await ada.page.locator('#messages .notice', { hasText: 'The server lost the room’s history' }).waitFor();
    await waitForPeople(ada.page, ['Ada', 'Grace']);
    assert.deepEqual(second.users('restart'), ['Ada', 'Grace']);

    await say(ada.page, 'still here after the restart');
    assert.equal(await seen(grace.page, 'still here after the restart'), 'Ada');
    assert.equal(
      await grace.page
        .locator('#messages .message .text', { hasText: 'still here after the restart' })
        .count(),
      1,
    );
    await noErrors(ada, grace);
  });
});
