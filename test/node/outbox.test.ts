// The Outbox, the one ordered path out of a connection: whatever waits (a message compressed on the
// thread pool, a Blob being read, a frame still being compressed for many subscribers) holds back
// everything given after it, messages, pings and the Close alike; the bytes waiting are counted.
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import { Outbox, type OutboxOwner } from '../../src/node/connection/outbox.js';
import { DeflateCodec } from '../../src/node/deflate/codec.js';
import { InflateBudget } from '../../src/node/deflate/inflate-budget.js';
import { Limiter } from '../../src/node/deflate/limiter.js';
import type { Transport } from '../../src/node/transport/transport.js';
import { Protocol } from '../../src/protocol/protocol.js';
import { serverFrames } from './helpers.js';

/** A transport that keeps what is written and completes each write on the next tick. */
class RecordingTransport extends EventEmitter {
  readonly chunks: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  writable = true;
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    if (cb) process.nextTick(cb, null);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  frames() {
    return serverFrames(Buffer.concat(this.chunks));
  }
}

function setup(options: { codec?: boolean; highWaterMark?: number; readPause?: number; max?: number } = {}) {
  const events: string[] = [];
  const owner: OutboxOwner = {
    receiving: false,
    flushBatch: null,
    outboxDrained: () => events.push('drain'),
    outboxOverflow: () => events.push('overflow'),
    outboxFull: (full) => events.push(full ? 'full' : 'room'),
    outboxFailed: (error) => events.push(`failed: ${error.message}`),
  };
  const protocol = new Protocol(
    { onMessage() {}, onPing() {}, onPong() {}, onCloseFrame() {}, onProtocolError() {} },
    { role: 'server' },
  );
  const params = {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const codec = options.codec
    ? new DeflateCodec(
        params,
        'server',
        { syncLimit: 100, threshold: 0 },
        new Limiter(2),
        0,
        new InflateBudget(0),
      )
    : null;
  const transport = new RecordingTransport();
  const outbox = new Outbox(owner, protocol, transport as unknown as Transport, codec, {
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    readPauseBufferedAmount: options.readPause ?? 0,
    maxBufferedAmount: options.max ?? 0,
  });
  /** Resolves once `count` frames were written. */
  const written = async (count: number) => {
    while (transport.frames().length < count) await new Promise((resolve) => setImmediate(resolve));
    return transport.frames();
  };
  return { outbox, protocol, transport, events, written };
}

const inflate = (payload: Buffer) =>
  inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });

describe('Outbox', () => {
  it('a message compressed on the thread pool holds back the message, ping and Close after it', async () => {
    const { outbox, protocol, written } = setup({ codec: true });
    const big = Buffer.alloc(50_000, 'b');
    outbox.message(big, true, true, true); // over syncLimit: the thread pool
    outbox.message('small', false, true, false);
    outbox.control(true, Buffer.from('p'));
    outbox.after(() => protocol.close(1000));
    assert.equal(outbox.busy, true);
    assert.ok(outbox.bufferedAmount >= 50_005, 'the waiting bytes are counted');
    const frames = await written(4);
    assert.deepEqual(
      frames.map((f) => f.opcode),
      [0x2, 0x1, 0x9, 0x8],
    );
    assert.deepEqual(inflate(frames[0].payload), big);
    assert.equal(frames[1].payload.toString(), 'small');
    assert.equal(outbox.busy, false);
  });

  it('the parts of a message follow the first part’s choice of compression', async () => {
    const { outbox, written } = setup({ codec: true });
    outbox.message('part one', false, false, false);
    outbox.message(Buffer.alloc(10), false, true, true); // asks to compress: the message already is not
    const frames = await written(2);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin]),
      [
        [0x1, false],
        [0x0, true],
      ],
    );
    assert.equal(frames[1].payload.length, 10, 'not compressed');
  });

  it('a Blob holds back what follows until it is read; a frame still being compressed too', async () => {
    const { outbox, written } = setup();
    outbox.blob(new Blob(['from a blob']), true, true, true);
    let release: (frame: Buffer) => void = () => {};
    const later = new Promise<Buffer>((resolve) => (release = resolve));
    outbox.framed(later);
    outbox.message('last', false, true, true);
    const first = await written(1);
    assert.equal(first[0].payload.toString(), 'from a blob');
    assert.equal(outbox.busy, true, 'waiting for the framed message');
    release(Buffer.from([0x81, 0x02, 0x68, 0x69])); // a text frame "hi", framed elsewhere
    const frames = await written(3);
    assert.deepEqual(
      frames.map((f) => f.payload.toString()),
      ['from a blob', 'hi', 'last'],
    );
  });

  it('past readPauseBufferedAmount it asks to stop reading, and for room again once written', async () => {
    const { outbox, events, written } = setup({ readPause: 1000, highWaterMark: 100 });
    assert.equal(outbox.message(Buffer.alloc(5000), true, true, true), false);
    assert.deepEqual(events, ['full']);
    await written(1);
    while (!events.includes('room')) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['full', 'room', 'drain'], "and send() having returned false, 'drain'");
  });

  it('past maxBufferedAmount the owner is told to close; discard() drops the rest and fails its callbacks', async () => {
    const { outbox, events } = setup({ max: 1000 });
    const results: unknown[] = [];
    outbox.message(Buffer.alloc(500), true, true, true, (err) => results.push(err ?? null));
    assert.equal(outbox.message(Buffer.alloc(600), true, true, true), false);
    assert.deepEqual(events, ['overflow']);
    outbox.discard(new Error('closed with 1008'));
    assert.equal(outbox.bufferedAmount, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((results[0] as Error).message, 'closed with 1008');
  });

  it('whenBelow(): called once the bytes written fall to the bound, also when they were all written before it was asked', async () => {
    /** A transport whose writes complete when the test says so (the peer reads). */
    class SlowTransport extends RecordingTransport {
      readonly pending: [number, ((err?: Error | null) => void) | undefined][] = [];
      override write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean {
        this.chunks.push(chunk);
        this.writableLength += chunk.length;
        this.pending.push([chunk.length, cb]);
        return true;
      }
      complete(): void {
        const [length, cb] = this.pending.shift()!;
        this.writableLength -= length;
        cb?.(null);
      }
    }
    const { protocol } = setup();
    const owner: OutboxOwner = {
      receiving: false,
      flushBatch: null,
      outboxDrained() {},
      outboxOverflow() {},
      outboxFull() {},
      outboxFailed() {},
    };
    const transport = new SlowTransport();
    const outbox = new Outbox(owner, protocol, transport as unknown as Transport, null, {
      highWaterMark: 16 * 1024,
      readPauseBufferedAmount: 0,
      maxBufferedAmount: 0,
    });
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    // Nobody waits: the writes carry no callback (nothing added for a connection not behind).
    outbox.message(Buffer.alloc(1000), true, true, false);
    outbox.message(Buffer.alloc(1000), true, true, false);
    await tick();
    assert.deepEqual(
      transport.pending.map(([, cb]) => cb),
      [undefined],
      'one write, no callback',
    );
    // Everything is in the transport already: an empty write tells when it is done.
    let called = 0;
    outbox.whenBelow(500, () => called++);
    assert.equal(transport.pending.length, 2);
    assert.equal(transport.pending[1][0], 0, 'an empty write');
    transport.complete();
    assert.equal(called, 0, 'the empty write has not completed yet');
    transport.complete();
    assert.equal(called, 1);
    // Asked while bytes wait in the protocol: the write that takes them carries the callback, and it
    // is called when the bytes are down to the bound, once.
    outbox.message(Buffer.alloc(1000), true, true, false);
    outbox.whenBelow(100, () => called++);
    await tick();
    outbox.message(Buffer.alloc(1000), true, true, false);
    await tick();
    assert.equal(transport.pending.length, 2);
    transport.complete();
    assert.equal(called, 1, 'still over the bound');
    transport.complete();
    assert.equal(called, 2);
    outbox.message(Buffer.alloc(1000), true, true, false);
    await tick();
    transport.complete();
    assert.equal(called, 2, 'once');
    // Under the bound already: called on the next tick.
    outbox.whenBelow(100, () => called++);
    await tick();
    assert.equal(called, 3);
  });
});
