// The inflate budget: what received messages hold while they inflate on the thread pool, for all
// the connections of a server, is bounded by inflateBudget plus one message, however many
// connections send compression bombs at once; and every message still arrives whole.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { InflateBudget } from '../../src/node/deflate/inflate-budget.js';
import { client, defer, next, runCleanups, serve, type WebSocket, within } from './helpers.js';

afterEach(runCleanups);

describe('InflateBudget', () => {
  it('pauses jobs past the limit, never the oldest, and wakes them as bytes are freed', () => {
    const budget = new InflateBudget(100);
    const woken: string[] = [];
    const a = budget.open(() => woken.push('a'));
    const b = budget.open(() => woken.push('b'));
    const c = budget.open(() => woken.push('c'));
    assert.equal(b.add(60), true);
    assert.equal(c.add(60), false, 'past the limit: c waits');
    assert.equal(a.add(500), true, 'the oldest never waits');
    assert.equal(budget.held, 620);
    a.done();
    assert.deepEqual(woken, [], 'b is the oldest now, and was not paused');
    assert.equal(budget.held, 120);
    b.done();
    assert.deepEqual(woken, ['c'], 'c is the oldest now: woken');
    c.done();
    assert.equal(budget.held, 0);
    assert.equal(budget.peak, 620);
  });

  it('a limit of 0 never pauses', () => {
    const budget = new InflateBudget(0);
    assert.equal(budget.open(() => {}).add(1e9), true);
    assert.equal(budget.open(() => {}).add(1e9), true);
  });
});

describe('inflateBudget on a server', () => {
  it('twelve connections sending bombs at once hold at most the budget and one message; all arrive whole', async () => {
    const budgetBytes = 2 * 1024 * 1024;
    const maxPayload = 8 * 1024 * 1024;
    const size = 6 * 1024 * 1024;
    const s = await serve({
      heartbeat: false,
      maxPayload,
      inflateBudget: budgetBytes,
      perMessageDeflate: { syncLimit: 1024 },
    });
    const budget = (s.wss as unknown as { upgrades: { budget: InflateBudget } }).upgrades.budget;
    const received: number[] = [];
    const all = new Promise<void>((resolve) => {
      s.wss.on('connection', (peer: WebSocket) => {
        peer.on('message', (data: Buffer) => {
          received.push(data.length);
          assert.ok(data.every((b) => b === 0));
          if (received.length === 12) resolve();
        });
      });
    });
    const clients = Array.from({ length: 12 }, () =>
      client(s.url, { perMessageDeflate: { threshold: 0 }, maxPayload }),
    );
    await Promise.all(clients.map((ws) => next(ws, 'open')));
    for (const ws of clients) ws.send(Buffer.alloc(size));
    await within(all, 'every message', 60_000);
    defer(() => undefined);
    assert.deepEqual(received, Array(12).fill(size));
    const slack = 10 * 64 * 1024; // a chunk per job still running when the budget ran out
    assert.ok(budget.peak <= budgetBytes + maxPayload + slack, `held at most ${budget.peak} bytes`);
    assert.ok(budget.peak > budgetBytes, 'the budget was reached: the test loaded it');
    assert.equal(budget.held, 0, 'all freed once delivered');
  });
});
