// HandshakeDeadlines: one timer for the opening-handshake limit of all of a server's sockets.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { HandshakeDeadlines } from '../../src/node/handshake/handshake-deadlines.js';
import { within } from './helpers.js';

/** Enough of a socket for abortHandshake: records what was written before it ended. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  written = '';
  /** Where the order in which sockets were answered is recorded. */
  constructor(private readonly answered: FakeSocket[] = []) {
    super();
  }
  end(data: string): void {
    this.answered.push(this);
    this.written += data;
    this.writable = false;
    this.emit('finish');
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function sockets(n: number, answered: FakeSocket[] = []): FakeSocket[] {
  return Array.from({ length: n }, () => new FakeSocket(answered));
}

describe('HandshakeDeadlines', () => {
  it('answers 408 to the sockets past their deadline, in arrival order, and keeps the others', () => {
    const deadlines = new HandshakeDeadlines(1000);
    const answered: FakeSocket[] = [];
    const [a, b, c] = sockets(3, answered);
    const start = Date.now();
    deadlines.add(a as unknown as Duplex);
    deadlines.add(b as unknown as Duplex);
    deadlines.delete(b as unknown as Duplex); // b completed its handshake
    deadlines.add(c as unknown as Duplex);
    deadlines.sweep(start + 500);
    assert.equal(a.written, '');
    deadlines.sweep(start + 60_000);
    assert.match(a.written, /^HTTP\/1\.1 408 /);
    assert.match(c.written, /^HTTP\/1\.1 408 /);
    assert.equal(b.written, '', 'a completed handshake is left alone');
    assert.deepEqual(answered, [a, c], 'in arrival order');
    assert.equal(a.destroyed && c.destroyed, true);
    assert.equal(deadlines.size, 0);
  });

  it('forgets sockets that closed meanwhile, and adding a socket twice keeps its first deadline', () => {
    const deadlines = new HandshakeDeadlines(1000);
    const [a, b] = sockets(2);
    const pending = (deadlines as unknown as { pending: Map<unknown, number> }).pending;
    deadlines.add(a as unknown as Duplex);
    const first = pending.get(a);
    deadlines.add(b as unknown as Duplex);
    const t = Date.now();
    while (Date.now() === t); // the clock moves on (a spin of at most a millisecond, not a sleep)
    deadlines.add(a as unknown as Duplex);
    assert.equal(pending.get(a), first, 'the second add kept the first deadline');
    assert.deepEqual([...pending.keys()], [a, b], 'and its place in arrival order');
    a.destroyed = true;
    deadlines.sweep(Date.now());
    assert.equal(deadlines.size, 1);
    assert.equal(a.written, '');
    deadlines.stop();
  });

  it('a timeout of 0 means no time limit: sockets are counted (for the cap) but no timer runs', () => {
    const deadlines = new HandshakeDeadlines(0, 1);
    assert.equal(deadlines.admit(new FakeSocket() as unknown as Duplex), true);
    assert.equal(deadlines.size, 1);
    assert.equal((deadlines as unknown as { timer: NodeJS.Timeout | null }).timer, null);
    assert.equal(deadlines.admit(new FakeSocket() as unknown as Duplex), false, 'over the cap of 1');
  });

  it('its timer runs only while sockets wait, and does not keep the process alive', async () => {
    const deadlines = new HandshakeDeadlines(40);
    const [a] = sockets(1);
    deadlines.add(a as unknown as Duplex);
    const timer = (deadlines as unknown as { timer: NodeJS.Timeout | null }).timer;
    assert.ok(timer !== null);
    assert.equal(timer.hasRef(), false);
    // (within() keeps the event loop alive: the sweep timer itself does not.)
    await within(new Promise<void>((resolve) => a.on('finish', resolve)), 'the 408');
    assert.match(a.written, /^HTTP\/1\.1 408 /);
    assert.equal((deadlines as unknown as { timer: unknown }).timer, null, 'stopped once empty');
  });
});
