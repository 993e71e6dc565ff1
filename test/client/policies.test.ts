// The client's timing policies, on a clock and a random source the tests give: the backoff's delays
// and the heartbeat's decisions. No timers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../src/client/backoff.js';
import { HeartbeatMonitor } from '../../src/client/heartbeat.js';

describe('Backoff', () => {
  it('grows by factor from min up to max, less up to jitter of each delay', () => {
    const low = new Backoff({ min: 100, max: 1000, factor: 2, jitter: 0.5 }, () => 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => low.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    const high = new Backoff({ min: 100, max: 1000, factor: 2, jitter: 0.5 }, () => 0.999999);
    assert.deepEqual(
      [1, 2, 3].map(() => high.next()),
      [50, 100, 200],
    );
    high.reset();
    assert.equal(high.attempt, 0);
    assert.equal(high.next(), 50);
  });

  it('spreads the clients of one server over the jitter range', () => {
    const delays = new Set<number>();
    const backoff = new Backoff({ min: 1000, jitter: 1 });
    for (let i = 0; i < 50; i++) {
      backoff.reset();
      delays.add(backoff.next());
    }
    assert.ok(delays.size > 25, `only ${delays.size} different delays out of 50`);
    assert.ok([...delays].every((d) => d >= 0 && d <= 1000));
  });

  it('refuses options out of range, saying which', () => {
    assert.throws(() => new Backoff({ min: -1 }), /backoff\.min/);
    assert.throws(() => new Backoff({ min: 10, max: 5 }), /backoff\.max/);
    assert.throws(() => new Backoff({ factor: 0.5 }), /backoff\.factor/);
    assert.throws(() => new Backoff({ jitter: 2 }), { code: 'TOPICS_ERR_INVALID_ARGUMENT' });
  });
});

describe('HeartbeatMonitor', () => {
  it('pings after interval of silence, and calls the connection dead after timeout more', () => {
    const h = new HeartbeatMonitor({ interval: 100, timeout: 50 });
    h.start(0);
    assert.deepEqual(h.check(40), { action: null, next: 60 });
    assert.deepEqual(h.check(100), { action: 'ping', next: 50 });
    assert.deepEqual(h.check(120), { action: null, next: 30 });
    assert.deepEqual(h.check(150), { action: 'dead', next: 50 });
  });

  it('anything received is a sign of life: no ping while the server talks', () => {
    const h = new HeartbeatMonitor({ interval: 100, timeout: 50 });
    h.start(0);
    h.received(90);
    assert.deepEqual(h.check(100), { action: null, next: 90 });
    assert.equal(h.check(190).action, 'ping');
    h.received(200); // the pong
    assert.deepEqual(h.check(260), { action: null, next: 40 });
  });

  it('refuses a zero or negative interval', () => {
    assert.throws(() => new HeartbeatMonitor({ interval: 0 }), /heartbeat\.interval/);
    assert.throws(() => new HeartbeatMonitor({ timeout: -5 }), /heartbeat\.timeout/);
  });
});
