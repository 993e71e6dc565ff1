// OutputQueue: frames laid out in one buffer per take(), large unmasked payloads by reference,
// masked frames with a fresh key each, already framed bytes as they are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskKeySource, OutputQueue } from '../../src/protocol/index.js';
import { decodeFrames } from './helpers.js';

describe('OutputQueue', () => {
  it('take() is null when nothing is queued', () => {
    const q = new OutputQueue(null);
    assert.equal(q.isEmpty, true);
    assert.equal(q.take(), null);
  });

  it('lays a burst of small frames out in one buffer', () => {
    const q = new OutputQueue(null);
    q.pushFrame(0x81, 'one', 3);
    q.pushFrame(0x82, Buffer.from([1, 2]), 2);
    q.pushFrame(0x89, Buffer.alloc(0), 0);
    assert.equal(q.bytes, 5 + 4 + 2);
    const out = q.take()!;
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], Buffer.from([0x81, 3, 0x6f, 0x6e, 0x65, 0x82, 2, 1, 2, 0x89, 0]));
    assert.equal(q.bytes, 0);
    assert.equal(q.isEmpty, true);
  });

  it('passes a large unmasked payload by reference, between the copied pieces', () => {
    const q = new OutputQueue(null);
    const big = Buffer.alloc(70000, 0x61);
    q.pushFrame(0x81, 'a', 1);
    q.pushFrame(0x82, big, big.length);
    q.pushFrame(0x81, 'b', 1);
    const out = q.take()!;
    assert.equal(out.length, 3);
    assert.equal(out[1], big, 'not copied');
    assert.deepEqual(out[0], Buffer.from([0x81, 1, 0x61, 0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]));
    assert.deepEqual(out[2], Buffer.from([0x81, 1, 0x62]));
  });

  it('copies payloads of strings, even large ones (they are encoded into the buffer)', () => {
    const q = new OutputQueue(null);
    const text = 'é'.repeat(10000);
    q.pushFrame(0x81, text, Buffer.byteLength(text));
    const frames = decodeFrames(q.take());
    assert.equal(frames[0].payload.toString(), text);
  });

  it('masks every frame with a fresh key from the source, payload left untouched', () => {
    let n = 0;
    const q = new OutputQueue(
      new MaskKeySource({
        generate: (m) => {
          n++;
          m.fill(n);
        },
      }),
    );
    const payload = Buffer.alloc(20000, 0x42);
    q.pushFrame(0x82, payload, payload.length);
    q.pushFrame(0x81, 'hi', 2);
    const out = q.take()!;
    assert.equal(out.length, 1, 'masked frames are always copied');
    const bytes = out[0];
    assert.deepEqual(bytes.subarray(4, 8), Buffer.alloc(4, 1));
    const frames = decodeFrames(out);
    assert.deepEqual(frames[0].payload, payload);
    assert.equal(frames[0].masked, true);
    assert.equal(frames[1].payload.toString(), 'hi');
    assert.deepEqual(payload, Buffer.alloc(20000, 0x42), "the caller's buffer is not masked in place");
    assert.equal(n, 2);
  });

  it('queues raw bytes as they are: small ones copied, large by reference', () => {
    const q = new OutputQueue(null);
    const small = Buffer.from([0x81, 0x01, 0x78]);
    const large = Buffer.alloc(20000, 9);
    q.pushRaw(small);
    q.pushFrame(0x81, 'y', 1);
    q.pushRaw(large);
    assert.equal(q.bytes, 3 + 3 + 20000);
    const out = q.take()!;
    assert.deepEqual(out[0], Buffer.from([0x81, 0x01, 0x78, 0x81, 0x01, 0x79]));
    assert.equal(out[1], large);
    assert.equal(out.length, 2);
  });
});

describe('MaskKeySource', () => {
  it('draws distinct keys from its pool, across refills', () => {
    const source = new MaskKeySource({ poolSize: 8 });
    const keys = new Set<string>();
    const target = Buffer.alloc(4);
    for (let i = 0; i < 64; i++) {
      source.write(target, 0);
      keys.add(target.toString('hex'));
    }
    // 64 random 32-bit keys: a collision is possible but vanishingly unlikely (about 5e-7).
    assert.ok(keys.size >= 63);
  });
});
