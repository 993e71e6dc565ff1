// MessageBuffer: whatever the pieces, take() gives their concatenation; large pieces are kept by
// reference, small ones copied (so a caller may reuse a small piece's memory).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageBuffer } from '../../src/protocol/index.js';

describe('MessageBuffer', () => {
  it('is empty at first and after take()', () => {
    const mb = new MessageBuffer();
    assert.equal(mb.length, 0);
    assert.deepEqual(mb.take(), Buffer.alloc(0));
    mb.append(Buffer.from('abc'));
    assert.equal(mb.length, 3);
    assert.deepEqual(mb.take(), Buffer.from('abc'));
    assert.equal(mb.length, 0);
    assert.deepEqual(mb.take(), Buffer.alloc(0));
  });

  it('copies small pieces: reusing their memory afterwards does not change the message', () => {
    const mb = new MessageBuffer();
    const piece = Buffer.from('small');
    mb.append(piece);
    piece.fill(0);
    assert.deepEqual(mb.take(), Buffer.from('small'));
  });

  it('keeps a large piece that is most of its chunk by reference', () => {
    const mb = new MessageBuffer();
    const big = Buffer.alloc(32 * 1024, 7);
    mb.append(big);
    assert.equal(mb.take(), big);
  });

  it('copies a large piece that is a small view of a much larger chunk', () => {
    const chunk = Buffer.alloc(1024 * 1024, 1);
    const view = chunk.subarray(0, 20 * 1024);
    const mb = new MessageBuffer();
    mb.append(view);
    const out = mb.take();
    assert.deepEqual(out, view);
    assert.notEqual(out.buffer, chunk.buffer, 'the message does not pin the 1 MiB chunk');
  });

  it('takeParts() returns the pieces in order, and reset() empties', () => {
    const mb = new MessageBuffer();
    const big = Buffer.alloc(20000, 2);
    mb.append(Buffer.from('ab'));
    mb.append(big);
    mb.append(Buffer.from('cd'));
    const parts = mb.takeParts();
    assert.deepEqual(Buffer.concat(parts), Buffer.concat([Buffer.from('ab'), big, Buffer.from('cd')]));
    assert.ok(parts.includes(big));
    mb.append(Buffer.from('x'));
    mb.reset();
    assert.equal(mb.length, 0);
    assert.deepEqual(mb.take(), Buffer.alloc(0));
  });

  it('property: take() and takeParts() equal the concatenation of random pieces', () => {
    const piece = fc.oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 6000 }) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.integer({ min: 16 * 1024, max: 40 * 1024 }),
          fc.nat({ max: 40 * 1024 }),
          fc.nat(255),
        ),
      },
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.boolean(), (specs, asParts) => {
        const mb = new MessageBuffer();
        const pieces: Buffer[] = specs.map((s) => {
          if (s instanceof Uint8Array) return Buffer.from(s);
          // A large piece, a view into a chunk with `extra` bytes around it.
          const [n, extra, fill] = s;
          const chunk = Buffer.alloc(n + extra, fill);
          for (let i = 0; i < chunk.length; i += 97) chunk[i] = i & 0xff;
          return chunk.subarray(extra >>> 1, (extra >>> 1) + n);
        });
        const expected = Buffer.concat(pieces.map((p) => Buffer.from(p)));
        for (const p of pieces) mb.append(p);
        assert.equal(mb.length, expected.length);
        const got = asParts ? Buffer.concat(mb.takeParts()) : mb.take();
        assert.deepEqual(got, expected);
        assert.equal(mb.length, 0);
        // Reusable after take().
        mb.append(Buffer.from('again'));
        assert.deepEqual(mb.take(), Buffer.from('again'));
      }),
      { numRuns: 300 },
    );
  });
});
