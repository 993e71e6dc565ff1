// Properties of the hixie-76 parser: any bytes, in any chunking, give only WebSocketErrors (never a
// crash); a stream of text frames and discarded frames, cut anywhere, gives back the texts in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Hixie76Parser, WebSocketError } from '../../src/protocol/index.js';

/** Cuts bytes at the given points (sorted, deduplicated, inside the buffer). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const p of at) {
    pieces.push(bytes.subarray(start, p));
    start = p;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** A length-prefixed frame as the draft writes its length: base 128, most significant first. */
function binaryFrame(type: number, data: Buffer): Buffer {
  const digits = [data.length & 0x7f];
  for (let n = Math.floor(data.length / 128); n > 0; n = Math.floor(n / 128))
    digits.unshift(0x80 | (n & 0x7f));
  return Buffer.concat([Buffer.from([type, ...digits]), data]);
}

describe('Hixie76Parser properties', () => {
  it('random bytes in random pieces: only WebSocketErrors', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bytes, points) => {
          const parser = new Hixie76Parser(
            { onText: () => {}, onClosingFrame: () => {} },
            { maxPayload: 64 },
          );
          try {
            for (const piece of cut(Buffer.from(bytes), points)) parser.push(piece);
          } catch (err) {
            assert.ok(err instanceof WebSocketError, String(err));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('text frames between discarded frames come back in order, however the stream is cut', () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 40 }).map((text) => ({
        text,
        bytes: Buffer.concat([Buffer.from([0]), Buffer.from(text), Buffer.from([0xff])]),
      })),
      fc
        .tuple(fc.integer({ min: 0x80, max: 0xfe }), fc.uint8Array({ maxLength: 300 }))
        .map(([type, data]) => ({ text: null, bytes: binaryFrame(type, Buffer.from(data)) })),
    );
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, points) => {
          const texts: string[] = [];
          let closed = 0;
          const parser = new Hixie76Parser(
            { onText: (d) => texts.push(d.toString()), onClosingFrame: () => closed++ },
            { maxPayload: 0 },
          );
          const stream = Buffer.concat([...frames.map((f) => f.bytes), Buffer.from([0xff, 0x00])]);
          for (const piece of cut(stream, points)) parser.push(piece);
          assert.deepEqual(
            texts,
            frames.filter((f) => f.text !== null).map((f) => f.text),
          );
          assert.equal(closed, 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
