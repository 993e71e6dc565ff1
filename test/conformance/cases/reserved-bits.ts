// Group 3 — reserved bits (§5.2): with no extension negotiated, a frame with RSV1, RSV2 or RSV3 set must
// fail the connection (1002). Messages before the bad frame are still echoed first; a ping after it is not
// answered.
import type { CaseContext, CaseGroup, ConformanceCase } from '../case.js';
import { type FrameSpec, Op, Rsv } from '../frames.js';
import { expectFailure } from './steps.js';

type Writing = 'one write' | 'frame-wise' | 'octet-wise';

/** Valid text, then `bad`, then a ping: echo, Close 1002, no pong, TCP closed. */
async function badAfterValid(
  ctx: CaseContext,
  bad: FrameSpec[],
  writing: Writing = 'one write',
): Promise<void> {
  const frames: FrameSpec[] = [{ opcode: Op.Text, payload: 'Hello, world!' }, ...bad, { opcode: Op.Ping }];
  if (writing === 'frame-wise') await ctx.peer.sendFrameWise(frames);
  else await ctx.peer.send(frames, { chunkSize: writing === 'octet-wise' ? 1 : undefined });
  await ctx.peer.expectText('Hello, world!');
  await expectFailure(ctx, 1002);
}

const rsvName = (rsv: number) =>
  [rsv & Rsv.RSV1 && 'RSV1', rsv & Rsv.RSV2 && 'RSV2', rsv & Rsv.RSV3 && 'RSV3'].filter(Boolean).join('+');

const KINDS: Array<[string, (rsv: number) => FrameSpec[]]> = [
  ['text', (rsv) => [{ opcode: Op.Text, payload: 'bad', rsv }]],
  ['binary', (rsv) => [{ opcode: Op.Binary, payload: Buffer.from([1, 2, 3]), rsv }]],
  ['ping', (rsv) => [{ opcode: Op.Ping, payload: 'bad', rsv }]],
  ['pong', (rsv) => [{ opcode: Op.Pong, payload: 'bad', rsv }]],
  [
    'continuation',
    (rsv) => [
      { opcode: Op.Text, payload: 'frag1', fin: false },
      { opcode: Op.Continuation, payload: 'frag2', rsv },
    ],
  ],
  ['close', (rsv) => [{ opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]), rsv }]],
];

const matrix: ConformanceCase[] = [];
for (const [k, [kind, build]] of KINDS.entries()) {
  for (const [r, rsv] of [Rsv.RSV1, Rsv.RSV2, Rsv.RSV3].entries()) {
    matrix.push({
      id: `3.8.${k * 3 + r + 1}`,
      title: `valid text, ${kind} frame with ${rsvName(rsv)}, ping → echo, then 1002, no pong`,
      run: (ctx) => badAfterValid(ctx, build(rsv)),
    });
  }
}

export const reservedBits: CaseGroup = {
  id: '3',
  title: 'Reserved bits',
  cases: [
    {
      id: '3.1',
      title: 'text with RSV1 → 1002',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Text, payload: 'Hello, world!', rsv: Rsv.RSV1 });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '3.2',
      title: 'valid text, text with RSV2, ping → echo, then 1002, no pong',
      run: (ctx) => badAfterValid(ctx, KINDS[0][1](Rsv.RSV2)),
    },
    {
      id: '3.3',
      title: 'valid text, text with RSV1+RSV2, ping, written frame-wise → echo, then 1002',
      run: (ctx) => badAfterValid(ctx, KINDS[0][1](Rsv.RSV1 | Rsv.RSV2), 'frame-wise'),
    },
    {
      id: '3.4',
      title: 'valid text, text with RSV3, ping, written octet-wise → echo, then 1002',
      run: (ctx) => badAfterValid(ctx, KINDS[0][1](Rsv.RSV3), 'octet-wise'),
    },
    {
      id: '3.5',
      title: 'binary with RSV1+RSV3 → 1002',
      run: async (ctx) => {
        await ctx.peer.send({
          opcode: Op.Binary,
          payload: Buffer.from([0, 1, 2, 255]),
          rsv: Rsv.RSV1 | Rsv.RSV3,
        });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '3.6',
      title: 'ping with RSV2+RSV3 → 1002, no pong',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Ping, payload: 'Hello', rsv: Rsv.RSV2 | Rsv.RSV3 });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '3.7',
      title: 'close with RSV1+RSV2+RSV3 → 1002',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]), rsv: 0b111 });
        await expectFailure(ctx, 1002);
      },
    },
    ...matrix,
  ],
};
