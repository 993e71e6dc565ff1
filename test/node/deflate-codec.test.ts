import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DeflateCodec, type PerMessageDeflateOptions } from '../../src/node/deflate/codec.js';
import { InflateBudget } from '../../src/node/deflate/inflate-budget.js';
import { InflateChannel, type InflateChannelSink } from '../../src/node/deflate/inflate-channel.js';
import { Limiter } from '../../src/node/deflate/limiter.js';
import { WebSocketError } from '../../src/protocol/errors.js';
import type { DeflateParams } from '../../src/protocol/permessage-deflate.js';

const stateless: DeflateParams = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const takeover: DeflateParams = {
  ...stateless,
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
};

function codec(
  params: DeflateParams,
  role: 'server' | 'client',
  options: PerMessageDeflateOptions = {},
  maxPayload = 1 << 24,
) {
  return new DeflateCodec(params, role, options, new Limiter(4), maxPayload, new InflateBudget(0));
}

function run(fn: (cb: (err: WebSocketError | null, out?: Buffer) => void) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out!))));
}

const text = Buffer.from('{"type":"chat","text":"hello hello hello hello"}'.repeat(40));

describe('DeflateCodec', () => {
  for (const [name, params, options] of [
    ['stateless, sync', stateless, {}],
    ['stateless, thread pool', stateless, { syncLimit: 0 }],
    ['context takeover', takeover, { serverNoContextTakeover: false, clientNoContextTakeover: false }],
  ] as const) {
    it(`round-trips messages (${name}) and strips the sync-flush tail`, async () => {
      const server = codec(params, 'server', options);
      const client = codec(params, 'client', options);
      for (const message of [text, Buffer.alloc(0), randomBytes(100_000), text]) {
        const compressed = await run((cb) => server.compress(message, true, cb));
        assert.notDeepEqual(compressed.subarray(-4), Buffer.from([0, 0, 0xff, 0xff]));
        const again = await run((cb) => client.decompress(compressed, cb));
        assert.deepEqual(again, message);
      }
      server.close();
      client.close();
    });
  }

  it('uses context takeover only when configured: the second identical message shrinks', async () => {
    const withContext = codec(takeover, 'server', { serverNoContextTakeover: false });
    const first = await run((cb) => withContext.compress(text, true, cb));
    const second = await run((cb) => withContext.compress(text, true, cb));
    assert.ok(second.length < first.length / 2, `${second.length} vs ${first.length}`);
    // Negotiated takeover but not asked for it: stays stateless (always allowed for a compressor).
    const without = codec(takeover, 'server', {});
    const a = await run((cb) => without.compress(text, true, cb));
    const b = await run((cb) => without.compress(text, true, cb));
    assert.deepEqual(a, b);
    withContext.close();
  });

  it('context takeover: messages queued back to back come out intact (no output leaks into the next)', async () => {
    const options = { serverNoContextTakeover: false, clientNoContextTakeover: false } as const;
    const server = codec(takeover, 'server', options);
    const client = codec(takeover, 'client', options);
    const messages = [
      Buffer.alloc(200_000, 'x'),
      Buffer.alloc(5000, 'y'),
      randomBytes(3000),
      Buffer.from('tail'),
    ];
    // All compressions queued at once, as a burst of sends does.
    const compressed = await Promise.all(messages.map((m) => run((cb) => server.compress(m, true, cb))));
    for (let i = 0; i < messages.length; i++) {
      assert.deepEqual(await run((cb) => client.decompress(compressed[i], cb)), messages[i]);
    }
    // And all decompressions queued at once.
    const again = await Promise.all(messages.map((m) => run((cb) => server.compress(m, true, cb))));
    const inflated = await Promise.all(again.map((c) => run((cb) => client.decompress(c, cb))));
    assert.deepEqual(inflated, messages);
    server.close();
    client.close();
  });

  it('calls back synchronously below syncLimit', () => {
    const c = codec(stateless, 'server');
    let result: Buffer | undefined;
    c.compress(text, true, (_err, out) => {
      result = out;
    });
    assert.ok(result !== undefined);
    let inflated: Buffer | undefined;
    c.decompress(result, (_err, out) => {
      inflated = out;
    });
    assert.deepEqual(inflated, text);
  });

  it('a small payload inflating to more than 4 × syncLimit is inflated on the thread pool, not the main thread', async () => {
    const zeros = Buffer.alloc(2 * 1024 * 1024);
    const small = deflateRawSync(zeros, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    assert.ok(small.length < 64 * 1024);
    const c = codec(stateless, 'server', {}, 16 * 1024 * 1024);
    const inflated = run((cb) => c.decompress(small, cb));
    let calledBack = false;
    c.decompress(small, () => {
      calledBack = true;
    });
    assert.equal(calledBack, false, 'called back synchronously: inflated on the main thread');
    assert.deepEqual(await inflated, zeros);
    // Under the cap it stays synchronous.
    const modest = deflateRawSync(Buffer.alloc(200 * 1024), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(
      0,
      -4,
    );
    let out: Buffer | undefined;
    c.decompress(modest, (_err, result) => {
      out = result;
    });
    assert.equal(out?.length, 200 * 1024);
    c.close();
  });

  for (const [name, params, options] of [
    ['sync', stateless, {}],
    ['thread pool', stateless, { syncLimit: 0 }],
    ['context takeover', takeover, {}],
  ] as const) {
    it(`stops a compression bomb at maxPayload with 1009 (${name})`, async () => {
      const bomb = deflateRawSync(Buffer.alloc(50 * 1024 * 1024), {
        finishFlush: constants.Z_SYNC_FLUSH,
      }).subarray(0, -4);
      assert.ok(bomb.length < 64 * 1024);
      const c = codec(params, 'server', options, 1024 * 1024);
      await assert.rejects(
        run((cb) => c.decompress(bomb, cb)),
        (err: WebSocketError) => err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && err.closeCode === 1009,
      );
      c.close();
    });

    it(`reports corrupt data with 1007 (${name})`, async () => {
      const c = codec(params, 'server', options);
      await assert.rejects(
        run((cb) => c.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]), cb)),
        // zlib's code, errno and message, as ws passes zlib's error; still a WebSocketError with 1007.
        (err: WebSocketError) =>
          err instanceof WebSocketError &&
          err.code === 'Z_DATA_ERROR' &&
          err.errno === -3 &&
          err.message === 'invalid block type' &&
          err.closeCode === 1007 &&
          (err.cause as { code?: string }).code === 'Z_DATA_ERROR',
      );
      c.close();
    });
  }

  for (const [name, params, options] of [
    ['stateless, sync', stateless, {}],
    ['stateless, thread pool', stateless, { syncLimit: 0 }],
    ['context takeover', takeover, { serverNoContextTakeover: false, clientNoContextTakeover: false }],
  ] as const) {
    it(`a message in parts: only the last part loses the sync-flush tail, the parts inflate as one (${name})`, async () => {
      const server = codec(params, 'server', options);
      const client = codec(params, 'client', options);
      const parts = [text, Buffer.alloc(0), randomBytes(70_000), Buffer.from('end of message')];
      const out: Buffer[] = [];
      for (let i = 0; i < parts.length; i++) {
        const fin = i === parts.length - 1;
        const compressed = await run((cb) => server.compress(parts[i], fin, cb));
        const tail = compressed.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]));
        assert.equal(tail, !fin, `part ${i}: the tail is kept unless it is the last part`);
        out.push(compressed);
      }
      const inflated = await run((cb) => client.decompress(Buffer.concat(out), cb));
      assert.deepEqual(inflated, Buffer.concat(parts));
      server.close();
      client.close();
    });
  }

  it('context takeover: a message ending its deflate stream with BFINAL (RFC 7692 §7.2.3.4) does not swallow the next', async () => {
    const c = codec(takeover, 'server', {});
    const ended = deflateRawSync(Buffer.from('first, with BFINAL')); // Z_FINISH: a final block
    const flushed = deflateRawSync(Buffer.from('second'), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(
      0,
      -4,
    );
    assert.equal((await run((cb) => c.decompress(ended, cb))).toString(), 'first, with BFINAL');
    assert.equal((await run((cb) => c.decompress(flushed, cb))).toString(), 'second');
    assert.equal((await run((cb) => c.decompress(ended, cb))).toString(), 'first, with BFINAL');
    c.close();
  });

  it('context takeover: messages queued together, the first one corrupt or a bomb: each fails alone, no limiter slot is lost', async () => {
    const limiter = new Limiter(4);
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024), {
      finishFlush: constants.Z_SYNC_FLUSH,
    }).subarray(0, -4);
    for (const bad of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]), bomb]) {
      const c = new DeflateCodec(takeover, 'server', {}, limiter, 1024 * 1024, new InflateBudget(0));
      const good = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
      const results = await Promise.allSettled([
        run((cb) => c.decompress(bad, cb)),
        run((cb) => c.decompress(good, cb)),
      ]);
      assert.equal(results[0].status, 'rejected');
      const code = (results[0] as PromiseRejectedResult).reason.closeCode;
      assert.equal(code, bad === bomb ? 1009 : 1007);
      // The second message goes to a fresh stream (the connection is failed anyway): it must settle.
      assert.ok(results[1].status === 'fulfilled' || results[1].status === 'rejected');
      assert.equal(limiter.pending, 0);
      c.close();
    }
  });

  it('close() while zlib work is queued or running frees every limiter slot and calls nothing back', async () => {
    const limiter = new Limiter(1);
    const options = { serverNoContextTakeover: false, syncLimit: 0 } as const;
    const c1 = new DeflateCodec(takeover, 'server', options, limiter, 0, new InflateBudget(0));
    const c2 = new DeflateCodec(stateless, 'server', options, limiter, 0, new InflateBudget(0));
    let called = 0;
    c1.compress(randomBytes(200_000), true, () => called++);
    c2.compress(randomBytes(200_000), true, () => called++);
    c2.decompress(Buffer.from([0x01, 0x00]), () => called++);
    assert.equal(limiter.pending, 3);
    c1.close();
    c2.close();
    // A probe queued behind them runs once every slot was given back.
    await new Promise<void>((resolve) =>
      limiter.add((done) => {
        done();
        resolve();
      }),
    );
    assert.equal(limiter.pending, 0);
    assert.equal(called, 0);
  });

  it('compresses with the negotiated window', async () => {
    const params = { ...stateless, serverMaxWindowBits: 9 };
    const c = codec(params, 'server');
    const data = randomBytes(600);
    const message = Buffer.concat([data, data]); // a repeat 600 bytes back: out of reach of a 512-byte window
    const out = await run((cb) => c.compress(message, true, cb));
    const inflated = inflateRawSync(Buffer.concat([out, Buffer.from([0, 0, 0xff, 0xff])]), {
      windowBits: 9,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.deepEqual(inflated, message);
    assert.ok(out.length > 1100, 'a 9-bit window cannot reference the first copy');
  });
});

describe('InflateChannel', () => {
  function sink() {
    const events: unknown[] = [];
    let waiter: { count: number; resolve: () => void } | null = null;
    const push = (event: unknown) => {
      events.push(event);
      if (waiter !== null && events.length >= waiter.count) waiter.resolve();
    };
    const s: InflateChannelSink = {
      deliverMessage: (data, isBinary) => push(['message', data.toString(), isBinary]),
      failMessage: (error) => push(['fail', error.code, error.closeCode]),
      receiveDrained: () => {},
    };
    /** Resolves once `count` events were recorded. */
    const waitFor = (count: number) =>
      new Promise<void>((resolve) => {
        if (events.length >= count) resolve();
        else waiter = { count, resolve };
      });
    return { events, s, push, waitFor };
  }

  it('delivers messages in arrival order when an earlier one inflates on the thread pool', async () => {
    const { events, s, waitFor } = sink();
    const big = Buffer.alloc(200_000, 'a');
    const c = codec(stateless, 'server', { syncLimit: 100 });
    const compressedBig = deflateRawSync(big, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const compressedSmall = deflateRawSync(Buffer.from('second'), {
      finishFlush: constants.Z_SYNC_FLUSH,
    }).subarray(0, -4);
    const bigAsync = Buffer.concat([compressedBig, Buffer.alloc(0)]);
    assert.ok(bigAsync.length > 100);
    const channel = new InflateChannel(c, s);
    channel.receive(bigAsync, false, true);
    channel.receive(Buffer.from('plain'), false, false);
    channel.receive(compressedSmall, false, true);
    assert.deepEqual(events, []); // all held behind the first
    await waitFor(3);
    assert.equal((events[0] as unknown[])[1], big.toString());
    assert.deepEqual(events.slice(1), [
      ['message', 'plain', false],
      ['message', 'second', false],
    ]);
  });

  it('fails on text that is not UTF-8 after inflating (1007)', () => {
    const { events, s } = sink();
    const channel = new InflateChannel(codec(stateless, 'server'), s);
    const bad = deflateRawSync(Buffer.from([0x68, 0xc3, 0x28]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    }).subarray(0, -4);
    channel.receive(bad, false, true);
    assert.deepEqual(events, [['fail', 'WS_ERR_INVALID_UTF8', 1007]]);
  });
});
