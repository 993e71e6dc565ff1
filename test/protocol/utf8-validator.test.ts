// The streaming UTF-8 validator against a byte-by-byte reference (Unicode Table 3-7) and TextDecoder,
// on inputs biased towards the sequences that must be refused, cut at random piece boundaries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidUtf8, Utf8Validator } from '../../src/protocol/index.js';
import { splitAt } from './helpers.js';

/**
 * The reference: walks the bytes with the well-formed sequences of Unicode Table 3-7. `bad` is the
 * index of the first byte after which no continuation can make the prefix valid, or -1.
 */
function reference(bytes: Uint8Array): { bad: number; complete: boolean } {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (need > 0) {
      if (b < lo || b > hi) return { bad: i, complete: false };
      lo = 0x80;
      hi = 0xbf;
      need--;
    } else if (b <= 0x7f) {
      // ASCII
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
    } else if (b === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) {
      need = 2;
    } else if (b === 0xed) {
      need = 2;
      hi = 0x9f;
    } else if (b === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (b >= 0xf1 && b <= 0xf3) {
      need = 3;
    } else if (b === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else {
      return { bad: i, complete: false };
    }
  }
  return { bad: -1, complete: need === 0 };
}

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function decodes(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const bytes = (...b: number[]) => Uint8Array.from(b);
const encode = (s: string) => new Uint8Array(Buffer.from(s));

const EDGE_CODE_POINTS = [
  0x0, 0x7f, 0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x3ffff, 0x40000,
  0xfffff, 0x100000, 0x10ffff,
];
const BAD_SEQUENCES = [
  bytes(0xc0, 0x80), // overlong NUL
  bytes(0xc1, 0xbf), // overlong U+7F
  bytes(0xe0, 0x80, 0x80), // overlong
  bytes(0xe0, 0x9f, 0xbf), // overlong U+7FF
  bytes(0xf0, 0x80, 0x80, 0x80), // overlong
  bytes(0xf0, 0x8f, 0xbf, 0xbf), // overlong U+FFFF
  bytes(0xed, 0xa0, 0x80), // U+D800
  bytes(0xed, 0xbf, 0xbf), // U+DFFF
  bytes(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80), // a surrogate pair, CESU-8
  bytes(0xf4, 0x90, 0x80, 0x80), // U+110000
  bytes(0xf5, 0x80, 0x80, 0x80),
  bytes(0xf7, 0xbf, 0xbf, 0xbf),
  bytes(0xf8, 0x88, 0x80, 0x80, 0x80),
  bytes(0xfe),
  bytes(0xff),
];

/** Byte strings biased towards the interesting cases, so that a bad byte is often deep in the input. */
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map(encode) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 10 }).map(encode) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...EDGE_CODE_POINTS).map((cp) => encode(String.fromCodePoint(cp))),
  },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_SEQUENCES) },
  {
    // a multi-byte character cut short
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom('é', '€', '𝄞', '\u{10ffff}', '\u{800}'), fc.nat(3)).map(([c, n]) => {
      const b = encode(c);
      return b.subarray(0, n % b.length);
    }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xbf }).map((b) => bytes(b)) }, // stray continuation
  { weight: 1, arbitrary: fc.integer({ min: 0xc0, max: 0xff }).map((b) => bytes(b)) }, // lone lead
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
);

const input = fc.array(segment, { maxLength: 12 }).map((parts) => new Uint8Array(Buffer.concat(parts)));

/** An input with cut points; `bytewise` puts every byte in its own piece. */
const splitInput = fc.record({
  data: input,
  cuts: fc.array(fc.nat({ max: 80 }), { maxLength: 8 }),
  bytewise: fc.boolean(),
  ranges: fc.boolean(),
});

interface Streamed {
  /** Index of the piece push() returned false for, or -1. */
  failedPiece: number;
  complete: boolean;
}

function stream(data: Uint8Array, pieces: Array<[number, number]>, ranges: boolean): Streamed {
  const v = new Utf8Validator();
  for (let k = 0; k < pieces.length; k++) {
    const [start, end] = pieces[k];
    const ok = ranges ? v.push(data, start, end) : v.push(data.slice(start, end));
    if (!ok) return { failedPiece: k, complete: false };
  }
  return { failedPiece: -1, complete: v.complete };
}

function piecesOf(data: Uint8Array, cuts: number[], bytewise: boolean): Array<[number, number]> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const parts = bytewise ? [...buf].map((_, i) => buf.subarray(i, i + 1)) : splitAt(buf, cuts);
  return parts.map((p) => [p.byteOffset - buf.byteOffset, p.byteOffset - buf.byteOffset + p.length]);
}

describe('Utf8Validator', () => {
  it('accepts valid text in one piece and in pieces', () => {
    const text = encode('ascii, é, €, 𝄞, κόσμε, \u{10ffff}');
    for (let cut = 0; cut <= text.length; cut++) {
      const v = new Utf8Validator();
      assert.ok(v.push(text.subarray(0, cut)), `cut ${cut}`);
      assert.ok(v.push(text.subarray(cut)), `cut ${cut}`);
      assert.ok(v.complete);
    }
  });

  it('refuses each bad sequence, on the byte that makes it bad', () => {
    for (const seq of BAD_SEQUENCES) {
      const { bad } = reference(seq);
      assert.ok(bad >= 0);
      const v = new Utf8Validator();
      for (let i = 0; i < seq.length; i++) {
        const ok = v.push(seq, i, i + 1);
        assert.equal(ok, i < bad, `${Buffer.from(seq).toString('hex')} at byte ${i}`);
        if (!ok) break;
      }
    }
  });

  it('"κόσμε" + F4 is a valid prefix; 0x90 next makes it invalid (Autobahn 6.4.2)', () => {
    const v = new Utf8Validator();
    assert.equal(v.push(Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4])])), true);
    assert.equal(v.complete, false);
    assert.equal(v.push(bytes(0x90)), false);
  });

  it('an incomplete sequence at the end is not complete; an empty piece changes nothing', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(bytes(0xe2, 0x82)));
    assert.ok(v.push(bytes()));
    assert.equal(v.complete, false);
    assert.ok(v.push(bytes(0xac)));
    assert.equal(v.complete, true);
  });

  it('reset() forgets an unfinished sequence', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(bytes(0xf0, 0x9f)));
    v.reset();
    assert.equal(v.complete, true);
    assert.ok(v.push(encode('plain')));
    assert.equal(v.push(bytes(0x98)), false);
  });

  it('property: agrees with the reference and fails fast, on the piece holding the first bad byte', () => {
    fc.assert(
      fc.property(splitInput, ({ data, cuts, bytewise, ranges }) => {
        const ref = reference(data);
        const pieces = piecesOf(data, cuts, bytewise);
        const got = stream(data, pieces, ranges);
        if (ref.bad === -1) {
          assert.equal(got.failedPiece, -1);
          assert.equal(got.complete, ref.complete);
        } else {
          const expected = pieces.findIndex(([s, e]) => ref.bad >= s && ref.bad < e);
          assert.equal(got.failedPiece, expected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: whole-input validity agrees with TextDecoder (fatal) and isValidUtf8', () => {
    fc.assert(
      fc.property(input, (data) => {
        const ref = reference(data);
        const valid = ref.bad === -1 && ref.complete;
        assert.equal(decodes(data), valid);
        assert.equal(isValidUtf8(data), valid);
        const v = new Utf8Validator();
        assert.equal(v.push(data) && v.complete, valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('the reference agrees with TextDecoder on every 1-, 2- and 3-byte input over the interesting bytes', () => {
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0];
    interesting.push(0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff);
    for (const a of interesting) {
      for (const b of interesting) {
        for (const c of [...interesting, -1]) {
          const seq = c === -1 ? bytes(a, b) : bytes(a, b, c);
          const ref = reference(seq);
          const valid = ref.bad === -1 && ref.complete;
          assert.equal(valid, decodes(seq), Buffer.from(seq).toString('hex'));
          const v = new Utf8Validator();
          let ok = true;
          for (let i = 0; i < seq.length && ok; i++) ok = v.push(seq, i, i + 1);
          assert.equal(ok && v.complete, valid, Buffer.from(seq).toString('hex'));
        }
      }
    }
  });
});
