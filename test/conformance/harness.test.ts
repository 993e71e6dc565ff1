// Self-checks of the suite's own tools, so a passing conformance run means something: the frame builder and
// the strict parser agree with the RFC's examples and reject what a sender must not do, and the UTF-8
// vector table agrees with the reference checker.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import { buildFrame, FrameParser, Op, ProtocolViolation } from './frames.js';
import { checkUtf8 } from './utf8.js';
import { expectedValid, UTF8_CATEGORIES } from './utf8-vectors.js';

const bytes = (...b: number[]) => Buffer.from(b);

describe('conformance harness self-checks', () => {
  it('builds the unmasked "Hello" of RFC 6455 §5.7', () => {
    assert.deepEqual(
      buildFrame({ opcode: Op.Text, payload: 'Hello' }, false),
      bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
    );
  });

  it('round-trips masked frames of every length encoding through the parser, in 1-byte pieces', () => {
    const parser = new FrameParser(true);
    const sizes = [0, 125, 126, 65535, 65536];
    const frames = [];
    for (const n of sizes) {
      const wire = buildFrame({ opcode: Op.Binary, payload: Buffer.alloc(n, n & 0xff) }, true);
      for (const b of wire) frames.push(...parser.push(Buffer.from([b])));
    }
    assert.deepEqual(
      frames.map((f) => [
        f.payload.length,
        f.masked,
        f.payload.every((x) => x === (f.payload.length & 0xff)),
      ]),
      sizes.map((n) => [n, true, true]),
    );
  });

  const violations: Array<[string, boolean, Buffer]> = [
    ['a masked frame from a server', false, buildFrame({ opcode: Op.Text, payload: 'x' }, true)],
    ['an unmasked frame from a client', true, buildFrame({ opcode: Op.Text, payload: 'x' }, false)],
    [
      'non-minimal 16-bit length',
      false,
      buildFrame({ opcode: Op.Text, payload: 'x', lengthEncoding: 16 }, false),
    ],
    [
      'non-minimal 64-bit length',
      false,
      buildFrame({ opcode: Op.Text, payload: 'x', lengthEncoding: 64 }, false),
    ],
    ['RSV1 without extension', false, buildFrame({ opcode: Op.Text, payload: 'x', rsv: 0b100 }, false)],
    ['reserved opcode', false, buildFrame({ opcode: 0x3 }, false)],
    ['fragmented ping', false, buildFrame({ opcode: Op.Ping, fin: false }, false)],
    ['126-byte ping', false, buildFrame({ opcode: Op.Ping, payload: Buffer.alloc(126) }, false)],
    ['1-byte close payload', false, buildFrame({ opcode: Op.Close, payload: bytes(3) }, false)],
    ['close code 1005', false, buildFrame({ opcode: Op.Close, payload: bytes(0x03, 0xed) }, false)],
    [
      'close reason not UTF-8',
      false,
      buildFrame({ opcode: Op.Close, payload: bytes(0x03, 0xe8, 0xff) }, false),
    ],
    ['continuation without start', false, buildFrame({ opcode: Op.Continuation }, false)],
    [
      'text inside a fragmented message',
      false,
      Buffer.concat([
        buildFrame({ opcode: Op.Text, payload: 'a', fin: false }, false),
        buildFrame({ opcode: Op.Text, payload: 'b' }, false),
      ]),
    ],
  ];
  for (const [what, expectMasked, wire] of violations) {
    it(`parser rejects ${what}`, () => {
      assert.throws(() => new FrameParser(expectMasked).push(wire), ProtocolViolation);
    });
  }

  it('UTF-8 vector table agrees with the reference checker', () => {
    for (const cat of UTF8_CATEGORIES) {
      for (const v of cat.vectors) {
        assert.equal(checkUtf8(v).valid, expectedValid(cat, v), `${cat.title}: ${v.toString('hex')}`);
        assert.equal(
          isUtf8(v),
          expectedValid(cat, v),
          `${cat.title}: node's isUtf8 disagrees on ${v.toString('hex')}`,
        );
      }
    }
  });

  it('reference checker finds the earliest byte that cannot start valid UTF-8', () => {
    assert.deepEqual(checkUtf8(Buffer.from('f490', 'hex')), { valid: false, failAt: 1 });
    assert.deepEqual(checkUtf8(Buffer.from('eda0', 'hex')), { valid: false, failAt: 1 });
    assert.deepEqual(checkUtf8(Buffer.from('ceba', 'hex')), { valid: true, failAt: null });
    assert.deepEqual(checkUtf8(Buffer.from('ce', 'hex')), { valid: false, failAt: null });
    assert.deepEqual(checkUtf8(Buffer.from('41c0', 'hex')), { valid: false, failAt: 1 });
  });
});
