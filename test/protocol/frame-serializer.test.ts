// Frame headers with the minimal length encoding (RFC 6455 §5.2), at every boundary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameHeaderSize, Opcode, serializeFrame, writeFrameHeader } from '../../src/protocol/index.js';
import { decodeFrames, KEY } from './helpers.js';

describe('frame headers', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x82, 0x00]],
    [125, [0x82, 0x7d]],
    [126, [0x82, 0x7e, 0x00, 0x7e]],
    [65535, [0x82, 0x7e, 0xff, 0xff]],
    [65536, [0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]],
    [2 ** 32, [0x82, 0x7f, 0, 0, 0, 0x01, 0, 0, 0, 0]],
    [2 ** 53 - 1, [0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ];

  for (const [length, bytes] of cases) {
    it(`length ${length}: ${bytes.length}-byte header`, () => {
      assert.equal(frameHeaderSize(length, false), bytes.length);
      assert.equal(frameHeaderSize(length, true), bytes.length + 4);
      const out = Buffer.alloc(20, 0xee);
      assert.equal(writeFrameHeader(out, 3, 0x82, length, false), 3 + bytes.length);
      assert.deepEqual([...out.subarray(3, 3 + bytes.length)], bytes);
      assert.equal(out[3 + bytes.length], 0xee, 'nothing written past the header');
      const masked = Buffer.alloc(20);
      writeFrameHeader(masked, 0, 0x82, length, true);
      assert.equal(masked[1], bytes[1] | 0x80);
    });
  }
});

describe('serializeFrame', () => {
  it('sets FIN, RSV1 and the opcode', () => {
    assert.deepEqual(
      decodeFrames(serializeFrame('x', { opcode: Opcode.Text, fin: false, rsv1: true })).map((f) => [
        f.fin,
        f.rsv,
        f.opcode,
      ]),
      [[false, 4, 1]],
    );
  });

  it('masks with the key given, leaving the caller’s payload untouched', () => {
    const payload = Buffer.alloc(300, 0x61);
    const frame = serializeFrame(payload, { opcode: Opcode.Binary, mask: KEY });
    assert.deepEqual(frame.subarray(0, 8), Buffer.from([0x82, 0xfe, 0x01, 0x2c, ...KEY]));
    assert.deepEqual(decodeFrames(frame)[0].payload, payload);
    assert.deepEqual(payload, Buffer.alloc(300, 0x61));
  });
});
