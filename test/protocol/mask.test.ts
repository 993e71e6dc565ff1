// Masker.apply and applyTo against a naive byte loop (RFC 6455 §5.3), on unaligned views, random
// ranges, key offsets and phases, through the WebAssembly kernel and in JavaScript only; bytes outside
// the range must be left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Masker } from '../../src/protocol/index.js';
import { createSimdXor, SIMD_BLOCK } from '../../src/protocol/mask-simd.js';

function naive(
  buf: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
  keyOffset: number,
  phase: number,
) {
  for (let i = start; i < end; i++) buf[i] ^= key[keyOffset + ((phase + i - start) % 4)];
}

const KEY = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

describe('Masker', () => {
  it('masks the §5.7 example', () => {
    const buf = Buffer.from('Hello');
    new Masker().apply(buf, 0, 5, KEY, 0);
    assert.deepEqual(buf, Buffer.from([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
  });

  it('masks a payload in pieces with the running phase', () => {
    const data = Buffer.from('a longer payload, masked in several pieces of odd sizes');
    const expected = Buffer.from(data);
    naive(expected, 0, expected.length, KEY, 0, 0);
    const m = new Masker();
    const cuts = [0, 1, 4, 5, 13, 14, 31, data.length];
    for (let k = 0; k + 1 < cuts.length; k++) m.apply(data, cuts[k], cuts[k + 1], KEY, 0, cuts[k]);
    assert.deepEqual(data, expected);
  });

  it('reads the key at keyOffset, even inside the buffer being masked', () => {
    const buf = Buffer.from([
      9, 9, 0x37, 0xfa, 0x21, 0x3d, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const expected = Buffer.from(buf);
    naive(expected, 6, buf.length, expected, 2, 0);
    new Masker().apply(buf, 6, buf.length, buf, 2);
    assert.deepEqual(buf, expected);
  });

  it('handles a resizable ArrayBuffer that grows after a view of it was cached', () => {
    // Typed by hand: lib es2023 does not know resizable ArrayBuffers (Node 20 has them).
    type Resizable = ArrayBuffer & { resize(length: number): void };
    const ResizableArrayBuffer = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => Resizable;
    const ab = new ResizableArrayBuffer(16, { maxByteLength: 256 });
    const m = new Masker();
    m.apply(new Uint8Array(ab), 0, 16, KEY, 0);
    ab.resize(64);
    const buf = new Uint8Array(ab);
    const expected = Uint8Array.from(buf);
    naive(expected, 0, 64, KEY, 0, 0);
    m.apply(buf, 0, 64, KEY, 0);
    assert.deepEqual(buf, expected);
  });

  it('handles the same length-tracking array growing and shrinking with its resizable ArrayBuffer', () => {
    type Resizable = ArrayBuffer & { resize(length: number): void };
    const ResizableArrayBuffer = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => Resizable;
    const ab = new ResizableArrayBuffer(64, { maxByteLength: 1024 });
    const buf = new Uint8Array(ab); // tracks the buffer's length
    const m = new Masker();
    const check = (n: number) => {
      const expected = Uint8Array.from(buf);
      naive(expected, 0, n, KEY, 0, 0);
      m.apply(buf, 0, n, KEY, 0);
      assert.deepEqual(buf, expected, `length ${n}`);
    };
    check(64);
    ab.resize(512);
    check(512);
    ab.resize(100);
    check(100);
    ab.resize(800);
    check(800);
  });

  it('release() drops the cached view; the masker still works afterwards', () => {
    const m = new Masker();
    const buf = Buffer.alloc(64, 1);
    m.apply(buf, 0, 64, KEY, 0);
    m.release();
    m.apply(buf, 0, 64, KEY, 0);
    assert.deepEqual(buf, Buffer.alloc(64, 1));
  });

  it('property: agrees with a naive loop on random buffers, offsets, ranges, keys and phases', () => {
    // One masker for all runs: its cached view must follow the buffers it is given.
    const masker = new Masker();
    let shared: ArrayBuffer | null = null;
    fc.assert(
      fc.property(
        fc.record({
          length: fc.oneof(fc.nat({ max: 40 }), fc.nat({ max: 400 }), fc.nat({ max: 5000 })),
          byteOffset: fc.nat({ max: 7 }),
          tail: fc.nat({ max: 7 }),
          startPick: fc.nat(),
          endPick: fc.nat(),
          key: fc.uint8Array({ minLength: 8, maxLength: 8 }),
          keyOffset: fc.nat({ max: 4 }),
          phase: fc.nat({ max: 11 }),
          seed: fc.integer({ min: 1, max: 255 }),
          reuse: fc.boolean(),
        }),
        (c) => {
          const size = c.byteOffset + c.length + c.tail;
          // Sometimes work in the same ArrayBuffer as the previous run, to exercise the cached view.
          const ab: ArrayBuffer =
            c.reuse && shared !== null && shared.byteLength >= size ? shared : new ArrayBuffer(size);
          shared = ab;
          const all = new Uint8Array(ab);
          for (let i = 0; i < all.length; i++) all[i] = (i * c.seed + 17) & 0xff;
          const buf = new Uint8Array(ab, c.byteOffset, c.length);
          const start = c.startPick % (c.length + 1);
          const end = start + (c.endPick % (c.length - start + 1));
          const expected = Uint8Array.from(all);
          naive(
            new Uint8Array(expected.buffer, c.byteOffset, c.length),
            start,
            end,
            c.key,
            c.keyOffset,
            c.phase,
          );
          masker.apply(buf, start, end, c.key, c.keyOffset, c.phase);
          assert.deepEqual(all, expected);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('property: masking twice restores the data (Buffers from the shared pool, odd offsets)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (data, key) => {
          const buf = Buffer.from(data); // small Buffers live in Node's pool at arbitrary offsets
          const m = new Masker();
          m.apply(buf, 0, buf.length, key, 0);
          const once = Buffer.from(buf);
          naive(once, 0, once.length, key, 0, 0);
          assert.deepEqual(once, Buffer.from(data));
          m.apply(buf, 0, buf.length, key, 0);
          assert.deepEqual(buf, Buffer.from(data));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Masker: WebAssembly SIMD and JavaScript paths', () => {
  const simd = createSimdXor();

  it('the WebAssembly kernel loads on this Node (else masking silently stays in JavaScript)', (t) => {
    if (simd === null) t.skip('no WebAssembly SIMD here');
    else assert.equal(simd.scratch.length, SIMD_BLOCK);
  });

  it('the kernel masks [0, end) rounded up to 64 bytes and nothing past it', { skip: simd === null }, () => {
    const k = simd!;
    k.scratch.fill(0xff, 0, 512);
    k.xor(130, 0x04030201);
    assert.deepEqual([...k.scratch.subarray(0, 8)], [0xfe, 0xfd, 0xfc, 0xfb, 0xfe, 0xfd, 0xfc, 0xfb]);
    assert.deepEqual([...k.scratch.subarray(188, 192)], [0xfe, 0xfd, 0xfc, 0xfb]);
    assert.ok(k.scratch.subarray(192, 512).every((b) => b === 0xff));
  });

  // Lengths around the switch to WebAssembly (1 KiB) and around its 64 KiB blocks.
  const length = fc.oneof(
    fc.integer({ min: 900, max: 1200 }),
    fc.integer({ min: 65500, max: 65600 }),
    fc.integer({ min: 131000, max: 200000 }),
  );
  const maskers: Array<[string, Masker]> = [
    ['WebAssembly where available', new Masker()],
    ['JavaScript only', new Masker(null)],
  ];

  for (const [name, masker] of maskers) {
    it(`property (${name}): apply() agrees with a naive loop on large ranges`, () => {
      fc.assert(
        fc.property(
          length,
          fc.nat({ max: 7 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.nat({ max: 7 }),
          (n, offset, key, phase) => {
            const all = patterned(offset + n + 5, n);
            const expected = Uint8Array.from(all);
            naive(expected, offset, offset + n, key, 0, phase);
            masker.apply(all, offset, offset + n, key, 0, phase);
            assert.ok(Buffer.from(all).equals(expected));
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`property (${name}): applyTo() masks into another buffer and leaves the source alone`, () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.nat({ max: 100 }), length),
          fc.nat({ max: 7 }),
          fc.nat({ max: 7 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.nat({ max: 7 }),
          (n, srcOffset, dstOffset, key, phase) => {
            const src = patterned(srcOffset + n + 3, 7);
            const srcBefore = Uint8Array.from(src);
            const dst = new Uint8Array(dstOffset + n + 9).fill(0xaa);
            const expected = Uint8Array.from(dst);
            expected.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
            naive(expected, dstOffset, dstOffset + n, key, 0, phase);
            masker.applyTo(src, srcOffset, srcOffset + n, dst, dstOffset, key, 0, phase);
            assert.ok(Buffer.from(dst).equals(expected));
            assert.ok(Buffer.from(src).equals(srcBefore));
          },
        ),
        { numRuns: 80 },
      );
    });

    it(`property (${name}): applyTo() moves a payload towards the start of its own buffer`, () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.nat({ max: 100 }), length),
          fc.nat({ max: 70000 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.nat({ max: 3 }),
          (n, shift, key, phase) => {
            const start = shift + 3;
            const buf = patterned(start + n + 2, 11);
            const expected = Uint8Array.from(buf);
            expected.copyWithin(start - shift, start, start + n);
            naive(expected, start - shift, start - shift + n, key, 0, phase);
            masker.applyTo(buf, start, start + n, buf, start - shift, key, 0, phase);
            // Bytes the move did not write keep whatever they held; the moved payload must be right.
            const lo = start - shift;
            assert.ok(Buffer.from(buf.subarray(0, lo)).equals(expected.subarray(0, lo)));
            assert.ok(Buffer.from(buf.subarray(lo, lo + n)).equals(expected.subarray(lo, lo + n)));
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

function patterned(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * seed + (i >>> 9) + 17) & 0xff;
  return b;
}
