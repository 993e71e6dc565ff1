// The pieces under the client: base64 both ways for any bytes (the browser's btoa/atob, in chunks),
// the JSON codec's refusals, UTF-8 byte counts of the send buffer, and the emitter's handling of a
// listener that throws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromBase64, jsonCodec, toBase64 } from '../../src/client/codec.js';
import { Emitter } from '../../src/client/emitter.js';
import { utf8Length } from '../../src/client/publish-buffer.js';

describe('codec', () => {
  it('base64 matches Node for any bytes, past the chunk size too', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 32_760, maxLength: 33_000 })),
        (bytes) => {
          const text = toBase64(bytes);
          assert.equal(text, Buffer.from(bytes).toString('base64'));
          assert.deepEqual(fromBase64(text), bytes);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('jsonCodec refuses what JSON cannot carry, and binary payloads', () => {
    assert.throws(() => jsonCodec.encode(undefined), /not a JSON value/);
    assert.throws(() => jsonCodec.encode(() => {}), /not a JSON value/);
    assert.throws(() => jsonCodec.decode(new Uint8Array([1])), /binary/);
    assert.deepEqual(jsonCodec.decode(jsonCodec.encode({ a: [1, 'é'] }) as string), { a: [1, 'é'] });
  });

  it('utf8Length counts bytes as UTF-8 does, lone surrogates as U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'));
      }),
    );
    assert.equal(utf8Length('\ud800x'), Buffer.byteLength('\ud800x'));
  });
});

describe('Emitter', () => {
  it('a listener that throws does not stop the others; its error is rethrown in a microtask', async () => {
    const emitter = new Emitter<{ ping: number }>();
    const got: number[] = [];
    const offBug = emitter.on('ping', () => {
      throw new Error('listener bug');
    });
    const off = emitter.on('ping', (n) => got.push(n));
    const rethrown = new Promise<Error>((resolve) => {
      const saved = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (err) => {
        for (const l of saved) process.on('uncaughtException', l);
        resolve(err);
      });
    });
    emitter.emit('ping', 1);
    assert.deepEqual(got, [1]);
    assert.equal((await rethrown).message, 'listener bug');
    off();
    offBug();
    const once: number[] = [];
    emitter.once('ping', (n) => once.push(n));
    emitter.emit('ping', 2);
    emitter.emit('ping', 3);
    assert.deepEqual([got, once], [[1], [2]], 'off() removed one, once() ran once');
  });
});
