// Group 12 — permessage-deflate (RFC 7692), after Autobahn's group 12: compressed messages of 16 B to
// 1 MiB echoed compressed, with and without context takeover (12.1-12.4); compressed messages in
// fragments (12.5); what the endpoint sends: threshold, per-message opt-out, its own fragmentation (12.6);
// what the suite may send: an empty message, uncompressed messages, a BFINAL block (12.7); order kept when
// a message is (de)compressed on the thread pool (12.8).

import type { DeflateParams } from '../deflate.js';
import type { DeflateCase, DeflateCaseContext, DeflateGroup } from '../deflate-case.js';
import { compressedFrames, expectDeflated, sendCompressed } from '../deflate-case.js';
import { Op } from '../frames.js';
import { binaryOf, textOf } from '../payloads.js';
import { closeCleanly } from './steps.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sizeName = (n: number) => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`);

const TAKEOVER: Partial<DeflateParams> = { serverNoContextTakeover: false, clientNoContextTakeover: false };
const NO_TAKEOVER: Partial<DeflateParams> = { serverNoContextTakeover: true, clientNoContextTakeover: true };
const BIG = { maxPayload: 32 * MiB };

/** `n` bytes of UTF-8 text (1- to 4-byte characters); messages of different `seed` differ in their first bytes. */
export function variedText(n: number, seed: number): Buffer {
  const out = textOf(n);
  const tag = Buffer.from(String(seed).padStart(5, '0').slice(-5), 'latin1');
  tag.copy(out, 0, 0, Math.min(5, n)); // over "Hello": ASCII over ASCII, still UTF-8
  return out;
}

/** `n` bytes repeating a pseudo-random block of `block` bytes: compressible only with a window over `block`. */
export function repeatingBinary(n: number, seed: number, block = 700): Buffer {
  const unit = binaryOf(block, seed + 1);
  const out = Buffer.allocUnsafe(n);
  for (let at = 0; at < n; at += block) unit.copy(out, at, 0, Math.min(block, n - at));
  return out;
}

/** How many messages each size sends: many small ones, a few large ones. */
const countFor = (n: number) => (n <= 4 * KiB ? 20 : n <= 64 * KiB ? 8 : n <= 128 * KiB ? 4 : 2);

const SIZES = [16, 64, 256, KiB, 4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, MiB];

/** Sends `messages` compressed, all in one write, then expects every echo compressed, in order. */
async function echoAll(ctx: DeflateCaseContext, opcode: number, messages: Buffer[]): Promise<number[]> {
  const frames = [];
  for (const m of messages) frames.push(...compressedFrames(opcode, await ctx.codec.compress(m)));
  await ctx.peer.send(frames);
  const sizes: number[] = [];
  for (const m of messages) {
    sizes.push((await expectDeflated(ctx, opcode, m, { compressed: true, timeoutMs: 10_000 })).wireLength);
  }
  return sizes;
}

function sizes(sub: number, kind: 'text' | 'binary', params: Partial<DeflateParams>): DeflateCase[] {
  const takeover = params.serverNoContextTakeover === false;
  return SIZES.map((n, i) => ({
    id: `12.${sub}.${i + 1}`,
    title:
      `${countFor(n)} ${kind} messages of ${sizeName(n)}, ${takeover ? 'context takeover' : 'no context takeover'}` +
      ' → echoed compressed, in order',
    params,
    options: BIG,
    timeout: 30_000,
    run: async (ctx) => {
      const opcode = kind === 'text' ? Op.Text : Op.Binary;
      const messages = Array.from({ length: countFor(n) }, (_, k) =>
        kind === 'text' ? variedText(n, k) : repeatingBinary(n, k % 2),
      );
      const wire = await echoAll(ctx, opcode, messages);
      // With context takeover the endpoint compresses a message like the one before into almost nothing.
      if (takeover && n >= 256 && n <= 16 * KiB && !(wire[2] < wire[0])) {
        throw new Error(`context takeover unused: echoes of ${wire.slice(0, 3).join(', ')} bytes`);
      }
      await closeCleanly(ctx);
    },
  }));
}

const fragmented: DeflateCase[] = [
  ...[1, 7, 64, KiB, 16 * KiB].map(
    (size, i): DeflateCase => ({
      id: `12.5.${i + 1}`,
      title: `64 KiB text compressed, sent in fragments of ${sizeName(size)} (RSV1 on the first only) → echoed`,
      params: TAKEOVER,
      timeout: 20_000,
      run: async (ctx) => {
        for (const seed of [1, 2]) {
          const text = variedText(64 * KiB, seed);
          await sendCompressed(ctx, Op.Text, text, { fragmentSize: size });
          await expectDeflated(ctx, Op.Text, text, { compressed: true });
        }
        await closeCleanly(ctx);
      },
    }),
  ),
  {
    id: '12.5.6',
    title: '256 KiB random binary compressed, in 4 KiB fragments, no context takeover → echoed',
    params: NO_TAKEOVER,
    run: async (ctx) => {
      const data = binaryOf(256 * KiB, 56);
      await sendCompressed(ctx, Op.Binary, data, { fragmentSize: 4 * KiB });
      await expectDeflated(ctx, Op.Binary, data, { compressed: true });
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.5.7',
    title: 'compressed text in 3 fragments, a ping between them → pong first, then the echo',
    params: TAKEOVER,
    run: async (ctx) => {
      const text = variedText(3000, 57);
      const frames = compressedFrames(Op.Text, await ctx.codec.compress(text), 16);
      if (frames.length < 3) throw new Error(`only ${frames.length} fragments`);
      await ctx.peer.send([frames[0], { opcode: Op.Ping, payload: 'between' }, ...frames.slice(1)]);
      await ctx.peer.expectPong('between');
      await expectDeflated(ctx, Op.Text, text, { compressed: true });
      await closeCleanly(ctx);
    },
  },
];

/** Echoes every message; a text message starting with "plain:" is echoed with `compress: false`. */
const endpointSends: DeflateCase[] = [
  {
    id: '12.6.1',
    title:
      'threshold 1024 (the default): echoes of 16 B and 1023 B uncompressed (RSV1 clear), 1024 B compressed',
    params: NO_TAKEOVER,
    deflateOptions: { threshold: undefined },
    run: async (ctx) => {
      for (const [n, compressed] of [
        [16, false],
        [1023, false],
        [1024, true],
        [4096, true],
      ] as const) {
        const text = variedText(n, n);
        await sendCompressed(ctx, Op.Text, text);
        await expectDeflated(ctx, Op.Text, text, { compressed });
      }
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.6.2',
    title: 'threshold 100: an echo of 99 B uncompressed, of 100 B compressed',
    params: NO_TAKEOVER,
    deflateOptions: { threshold: 100 },
    run: async (ctx) => {
      await sendCompressed(ctx, Op.Binary, repeatingBinary(99, 1, 9));
      await expectDeflated(ctx, Op.Binary, repeatingBinary(99, 1, 9), { compressed: false });
      await sendCompressed(ctx, Op.Binary, repeatingBinary(100, 1, 9));
      await expectDeflated(ctx, Op.Binary, repeatingBinary(100, 1, 9), { compressed: true });
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.6.3',
    title:
      'send(data, { compress: false }): the echo of 8 KiB is uncompressed (RSV1 clear), the next compressed',
    params: TAKEOVER,
    run: async (ctx) => {
      const plain = Buffer.concat([Buffer.from('plain:'), variedText(8 * KiB, 1)]);
      const normal = variedText(8 * KiB, 2);
      await ctx.peer.send([
        ...compressedFrames(Op.Text, await ctx.codec.compress(plain)),
        ...compressedFrames(Op.Text, await ctx.codec.compress(normal)),
      ]);
      await expectDeflated(ctx, Op.Text, plain, { compressed: false });
      await expectDeflated(ctx, Op.Text, normal, { compressed: true });
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.6.4',
    title: 'fragmentSize 1000: a 64 KiB echo is compressed, then split; RSV1 on its first frame only',
    params: TAKEOVER,
    options: { fragmentSize: 1000 },
    requiresFragmentSize: true,
    run: async (ctx) => {
      const data = repeatingBinary(64 * KiB, 3, 3000); // compresses to a few KiB: several frames
      await sendCompressed(ctx, Op.Binary, data);
      const { frames } = await expectDeflated(ctx, Op.Binary, data, { compressed: true });
      if (frames.length < 2 || frames.some((f) => f.payload.length > 1000)) {
        throw new Error(`frames of ${frames.map((f) => f.payload.length).join(', ')} bytes`);
      }
      await closeCleanly(ctx);
    },
  },
];

const suiteSends: DeflateCase[] = [
  {
    id: '12.7.1',
    title: 'an empty compressed message (the single byte 0x00, RFC 7692 §7.2.3.6) → empty echo',
    params: TAKEOVER,
    run: async (ctx) => {
      await ctx.peer.send({ opcode: Op.Text, payload: Buffer.from([0x00]), rsv: 0b100 });
      await expectDeflated(ctx, Op.Text, '');
      await ctx.peer.send({ opcode: Op.Binary, payload: Buffer.from([0x00]), rsv: 0b100 });
      await expectDeflated(ctx, Op.Binary, Buffer.alloc(0));
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.7.2',
    title: 'uncompressed messages between compressed ones (RSV1 clear) → all echoed, in order',
    params: TAKEOVER,
    run: async (ctx) => {
      const a = variedText(2000, 1);
      const b = variedText(2000, 2);
      const c = variedText(2000, 3);
      await ctx.peer.send([
        ...compressedFrames(Op.Text, await ctx.codec.compress(a)),
        { opcode: Op.Text, payload: b },
        ...compressedFrames(Op.Text, await ctx.codec.compress(c)),
      ]);
      for (const m of [a, b, c]) await expectDeflated(ctx, Op.Text, m);
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.7.3',
    title: 'context takeover: messages ending their deflate stream with BFINAL (§7.2.3.4) → each echoed',
    params: TAKEOVER,
    skip: (impl) =>
      impl === 'ws' ? 'ws deviation: after a BFINAL block, messages inflate to nothing' : undefined,
    run: async (ctx) => {
      const { deflateRawSync } = await import('node:zlib');
      for (const seed of [1, 2, 3]) {
        const text = variedText(500, seed);
        await ctx.peer.send({ opcode: Op.Text, payload: deflateRawSync(text), rsv: 0b100 });
        await expectDeflated(ctx, Op.Text, text);
      }
      await closeCleanly(ctx);
    },
  },
];

const ordering: DeflateCase[] = [
  {
    id: '12.8.1',
    title:
      '1 MiB random compressed (inflated on the thread pool), then 20 small ones, in one write → echoed in order',
    params: NO_TAKEOVER,
    options: BIG,
    run: async (ctx) => {
      const messages = [
        binaryOf(MiB, 81),
        ...Array.from({ length: 20 }, (_, k) => repeatingBinary(40 + k, k, 9)),
      ];
      await echoAll(ctx, Op.Binary, messages);
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.8.2',
    title: 'large and small, compressed and not, interleaved, context takeover → echoed in order',
    params: TAKEOVER,
    options: BIG,
    run: async (ctx) => {
      const messages = [MiB, 10, 300 * KiB, 20, 30, 2 * MiB, 40].map((n, k) =>
        repeatingBinary(n, k, 1000 + k),
      );
      const frames = [];
      for (const [k, m] of messages.entries()) {
        if (k % 2 === 1) frames.push({ opcode: Op.Binary, payload: m });
        else frames.push(...compressedFrames(Op.Binary, await ctx.codec.compress(m)));
      }
      await ctx.peer.send(frames);
      for (const m of messages) await expectDeflated(ctx, Op.Binary, m, { timeoutMs: 10_000 });
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.8.3',
    title: '2 MiB compressed then a Close in the same write → the echo comes before the answering Close',
    params: NO_TAKEOVER,
    options: BIG,
    run: async (ctx) => {
      const text = variedText(2 * MiB, 5);
      await ctx.peer.send([
        ...compressedFrames(Op.Text, await ctx.codec.compress(text)),
        { opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]) },
      ]);
      await expectDeflated(ctx, Op.Text, text, { compressed: true, timeoutMs: 10_000 });
      await ctx.peer.expectClose(1000);
      await ctx.expectClosed(1000);
    },
  },
  {
    id: '12.8.4',
    title:
      '1 MiB random compressed (inflated on the thread pool) then a Close in the same write → echo, then Close',
    params: NO_TAKEOVER,
    options: BIG,
    run: async (ctx) => {
      const data = binaryOf(MiB, 84);
      await ctx.peer.send([
        ...compressedFrames(Op.Binary, await ctx.codec.compress(data)),
        { opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]) },
      ]);
      await expectDeflated(ctx, Op.Binary, data, { compressed: true, timeoutMs: 10_000 });
      await ctx.peer.expectClose(1000);
      await ctx.expectClosed(1000);
    },
  },
  {
    id: '12.8.5',
    title: '1 MiB random compressed, then a frame with RSV2, in one write → the echo, then 1002',
    params: NO_TAKEOVER,
    options: BIG,
    run: async (ctx) => {
      const data = binaryOf(MiB, 85);
      await ctx.peer.send([
        ...compressedFrames(Op.Binary, await ctx.codec.compress(data)),
        { opcode: Op.Binary, payload: 'x', rsv: 0b010 },
      ]);
      await expectDeflated(ctx, Op.Binary, data, { compressed: true, timeoutMs: 10_000 });
      await ctx.peer.expectClose(1002);
      await ctx.expectClosed();
    },
  },
];

export const compression: DeflateGroup = {
  id: '12',
  title: 'permessage-deflate: compressed messages',
  cases: [
    ...sizes(1, 'text', TAKEOVER),
    ...sizes(2, 'binary', TAKEOVER),
    ...sizes(3, 'text', NO_TAKEOVER),
    ...sizes(4, 'binary', NO_TAKEOVER),
    ...fragmented,
    ...endpointSends,
    ...suiteSends,
    ...ordering,
  ],
};
