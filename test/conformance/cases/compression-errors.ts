// Group 12.9-12.10 — permessage-deflate limits and invalid compressed data. 12.9: maxPayload counts the
// inflated size; a compression bomb (1 GiB of zeros, about 1 MB compressed) is stopped at maxPayload with
// 1009, quickly and without inflating the rest. 12.10: RSV1 where RFC 7692 §6.1 forbids it (control
// frames, continuation frames, or nothing negotiated) → 1002; RSV2/RSV3 → 1002; data that does not
// inflate, or inflates to text that is not UTF-8 → 1007.
import { constants, deflateRawSync } from 'node:zlib';
import { deflateMessage, zeroBomb } from '../deflate.js';
import type { DeflateCase, DeflateCaseContext, DeflateGroup } from '../deflate-case.js';
import { compressedFrames, expectDeflated, sendCompressed } from '../deflate-case.js';
import { type FrameSpec, Op, Rsv } from '../frames.js';
import { binaryOf, textOf } from '../payloads.js';
import { closeCleanly, expectFailure } from './steps.js';

const MiB = 1024 * 1024;
const LIMIT = 16 * MiB;
const BOMB_MIB = 1024;

let bomb: Promise<Buffer> | undefined;
/** Built once per process (a few tens of ms). */
const theBomb = () => {
  bomb ??= zeroBomb(BOMB_MIB);
  return bomb;
};

/**
 * Sends the bomb; the endpoint must fail with 1009 (the Close within the default 3 s wait) and its
 * process, this one, must not have grown by anything like the 1 GiB the bomb inflates to.
 */
async function bombed(ctx: DeflateCaseContext, fragmentSize?: number): Promise<void> {
  const data = await theBomb();
  if (data.length > LIMIT / 4) throw new Error(`the bomb is ${data.length} bytes: over the frame limit`);
  const before = process.memoryUsage().rss;
  await ctx.peer.send(compressedFrames(Op.Binary, data, fragmentSize));
  await ctx.peer.expectClose(1009);
  const grown = process.memoryUsage().rss - before;
  await ctx.expectClosed();
  if (grown > 256 * MiB) throw new Error(`memory grew by ${Math.round(grown / MiB)} MiB inflating the bomb`);
}

const limits: DeflateCase[] = [
  {
    id: '12.9.1',
    title: `maxPayload 1000: a text message inflating to exactly 1000 bytes → echoed`,
    options: { maxPayload: 1000 },
    run: async (ctx) => {
      await sendCompressed(ctx, Op.Text, textOf(1000));
      await expectDeflated(ctx, Op.Text, textOf(1000));
      await closeCleanly(ctx);
    },
  },
  {
    id: '12.9.2',
    title: `maxPayload 1000: 1001 bytes, compressed to far less → 1009`,
    options: { maxPayload: 1000 },
    run: async (ctx) => {
      await sendCompressed(ctx, Op.Text, textOf(1001));
      await expectFailure(ctx, 1009);
    },
  },
  {
    id: '12.9.3',
    title: `maxPayload 16 MiB: ${BOMB_MIB} MiB of zeros (about 1 MB compressed) in one frame → 1009, memory bounded`,
    options: { maxPayload: LIMIT },
    timeout: 20_000,
    run: (ctx) => bombed(ctx),
  },
  {
    id: '12.9.4',
    title: `maxPayload 16 MiB: the same bomb in 64 KiB fragments → 1009, memory bounded`,
    options: { maxPayload: LIMIT },
    timeout: 20_000,
    run: (ctx) => bombed(ctx, 64 * 1024),
  },
  {
    id: '12.9.5',
    title: `maxPayload 16 MiB, context takeover: the bomb → 1009, memory bounded`,
    params: { serverNoContextTakeover: false, clientNoContextTakeover: false },
    options: { maxPayload: LIMIT },
    timeout: 20_000,
    run: (ctx) => bombed(ctx),
  },
];

/** A valid compressed message, then `bad`, then a ping: echo, Close `code`, no pong. */
function afterValid(id: string, title: string, bad: (ctx: DeflateCaseContext) => FrameSpec[], code = 1002) {
  return {
    id,
    title: `${title} → ${code}`,
    run: async (ctx: DeflateCaseContext) => {
      const hello = Buffer.from('Hello, compressed world!');
      await ctx.peer.send([
        ...compressedFrames(Op.Text, await ctx.codec.compress(hello)),
        ...bad(ctx),
        { opcode: Op.Ping, payload: 'after' },
      ]);
      await expectDeflated(ctx, Op.Text, hello, { compressed: true });
      await expectFailure(ctx, code);
    },
  } satisfies DeflateCase;
}

const compressedHi = deflateMessage(Buffer.from('hi'));

const invalid: DeflateCase[] = [
  afterValid('12.10.1', 'a ping with RSV1 (control frames are never compressed)', () => [
    { opcode: Op.Ping, payload: compressedHi, rsv: Rsv.RSV1 },
  ]),
  afterValid('12.10.2', 'a pong with RSV1', () => [
    { opcode: Op.Pong, payload: compressedHi, rsv: Rsv.RSV1 },
  ]),
  afterValid('12.10.3', 'a close with RSV1', () => [
    { opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]), rsv: Rsv.RSV1 },
  ]),
  afterValid('12.10.4', 'a compressed message with RSV1 on its continuation frame too', () => {
    const data = deflateMessage(Buffer.from('fragmented and compressed'));
    return [
      { opcode: Op.Text, payload: data.subarray(0, 5), fin: false, rsv: Rsv.RSV1 },
      { opcode: Op.Continuation, payload: data.subarray(5), rsv: Rsv.RSV1 },
    ];
  }),
  afterValid('12.10.5', 'an uncompressed first frame, then a continuation with RSV1', () => [
    { opcode: Op.Text, payload: 'plain ', fin: false },
    { opcode: Op.Continuation, payload: compressedHi, rsv: Rsv.RSV1 },
  ]),
  afterValid('12.10.6', 'a text frame with RSV1 and RSV2', () => [
    { opcode: Op.Text, payload: compressedHi, rsv: Rsv.RSV1 | Rsv.RSV2 },
  ]),
  afterValid('12.10.7', 'a binary frame with RSV3', () => [
    { opcode: Op.Binary, payload: Buffer.from([1, 2, 3]), rsv: Rsv.RSV3 },
  ]),
  afterValid(
    '12.10.8',
    'compressed data that does not inflate',
    () => [{ opcode: Op.Binary, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]), rsv: Rsv.RSV1 }],
    1007,
  ),
  afterValid(
    '12.10.9',
    'compressed data: 5000 good bytes in a flushed block, then a block of the reserved type 11',
    () => {
      const good = deflateRawSync(binaryOf(5000, 9), { finishFlush: constants.Z_SYNC_FLUSH });
      return [{ opcode: Op.Binary, payload: Buffer.concat([good, Buffer.from([0x06])]), rsv: Rsv.RSV1 }];
    },
    1007,
  ),
  afterValid(
    '12.10.10',
    'compressed text that inflates to invalid UTF-8',
    () => [
      { opcode: Op.Text, payload: deflateMessage(Buffer.from([0x68, 0xc3, 0x28, 0x69])), rsv: Rsv.RSV1 },
    ],
    1007,
  ),
  afterValid(
    '12.10.11',
    'compressed text in 2 fragments inflating to a code point cut short ("κ" then 0xe1 0xbd)',
    () => {
      const data = deflateMessage(Buffer.from([0xce, 0xba, 0xe1, 0xbd]));
      return [
        { opcode: Op.Text, payload: data.subarray(0, 2), fin: false, rsv: Rsv.RSV1 },
        { opcode: Op.Continuation, payload: data.subarray(2) },
      ];
    },
    1007,
  ),
  {
    id: '12.10.12',
    title: 'nothing negotiated (no offer or no answer): a frame with RSV1 → 1002',
    params: null,
    run: async (ctx) => {
      if (ctx.peer.extensions.answer !== undefined) throw new Error('permessage-deflate was negotiated');
      await ctx.peer.send([
        { opcode: Op.Text, payload: 'plain' },
        { opcode: Op.Text, payload: compressedHi, rsv: Rsv.RSV1 },
        { opcode: Op.Ping },
      ]);
      await ctx.peer.expectText('plain');
      await expectFailure(ctx, 1002);
    },
  },
];

export const compressionErrors: DeflateGroup = {
  id: '12.9',
  title: 'permessage-deflate: limits and invalid data',
  cases: [...limits, ...invalid],
};
