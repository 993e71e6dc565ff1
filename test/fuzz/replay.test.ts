// A fuzz failure is replayed from its seed and iteration: the inputs depend on nothing else.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { iterationSeed, Rng } from './prng.js';
import { protocolCase } from './protocol-target.js';
import { headCase } from './request-head-target.js';

it('the same seed and iteration give the same input; others differ', () => {
  const draw = (seed: number, i: number) => protocolCase(new Rng(iterationSeed(seed, i)));
  assert.deepEqual(draw(7, 3), draw(7, 3));
  assert.deepEqual(headCase(new Rng(iterationSeed(7, 3))), headCase(new Rng(iterationSeed(7, 3))));
  assert.notDeepEqual(draw(7, 3).bytes, draw(7, 4).bytes);
  assert.notDeepEqual(draw(7, 3).bytes, draw(8, 3).bytes);
});

it('Rng.int stays within its bound and reaches both ends', () => {
  const rng = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = rng.int(10);
    assert.ok(n >= 0 && n < 10);
    seen.add(n);
  }
  assert.equal(seen.size, 10);
});
