// The token bucket, on a clock the test moves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../src/chat/rate-limiter.js';

function clock() {
  const c = { t: 1000, now: () => c.t };
  return c;
}

function takeAll(bucket: TokenBucket): number {
  let n = 0;
  while (bucket.take()) n++;
  return n;
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then refuses', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 5, perSecond: 2, now: c.now });
    assert.equal(takeAll(bucket), 5);
    assert.equal(bucket.take(), false);
  });

  it('refills perSecond tokens a second, never above the burst', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 5, perSecond: 2, now: c.now });
    takeAll(bucket);
    c.t += 499;
    assert.equal(bucket.take(), false);
    c.t += 1;
    assert.equal(bucket.take(), true); // 0.5 s: one token
    assert.equal(bucket.take(), false);
    c.t += 60_000;
    assert.equal(takeAll(bucket), 5); // a long pause refills to the burst, not beyond
  });

  it('sustains perSecond messages a second', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 10, now: c.now });
    let passed = 0;
    for (let i = 0; i < 1000; i++) {
      c.t += 25; // 40 attempts a second
      if (bucket.take()) passed++;
    }
    assert.ok(Math.abs(passed - 250) <= 1, `${passed} passed in 25 s at 10/s`);
  });

  it('says how long until the next token', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 2, perSecond: 4, now: c.now });
    assert.equal(bucket.waitTime(), 0);
    takeAll(bucket);
    assert.equal(bucket.waitTime(), 250);
    c.t += 100;
    assert.equal(bucket.waitTime(), 150);
  });

  it('does not go wrong when the clock goes backwards', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 1, now: c.now });
    assert.equal(bucket.take(), true);
    c.t -= 10_000;
    assert.equal(bucket.take(), false);
    c.t += 1000;
    assert.equal(bucket.take(), true);
  });

  it('has defaults (10, 3/s) and refuses nonsense', () => {
    const bucket = new TokenBucket();
    assert.equal(bucket.burst, 10);
    assert.equal(bucket.perSecond, 3);
    assert.throws(() => new TokenBucket({ burst: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: Number.NaN }), RangeError);
  });
});
