// Group 5 — fragmentation (§5.4): fragmented messages are reassembled, control frames may be interleaved
// (and are answered right away), control frames themselves must not be fragmented, and continuation frames
// must continue something — otherwise 1002.
import type { CaseContext, CaseGroup, ConformanceCase } from '../case.js';
import { type FrameSpec, fragment, Op } from '../frames.js';
import { binaryOf } from '../payloads.js';
import { closeCleanly, echo, expectFailure } from './steps.js';

type Writing = 'one write' | 'frame-wise' | 'octet-wise';

async function sendAs(ctx: CaseContext, frames: FrameSpec[], writing: Writing): Promise<void> {
  if (writing === 'frame-wise') await ctx.peer.sendFrameWise(frames);
  else await ctx.peer.send(frames, { chunkSize: writing === 'octet-wise' ? 1 : undefined });
}

const WRITINGS: Writing[] = ['one write', 'frame-wise', 'octet-wise'];

const TWO_FRAGMENTS: FrameSpec[] = [
  { opcode: Op.Text, payload: 'fragment1', fin: false },
  { opcode: Op.Continuation, payload: 'fragment2' },
];

const WITH_PING: FrameSpec[] = [
  { opcode: Op.Text, payload: 'fragment1', fin: false },
  { opcode: Op.Ping, payload: 'ping payload' },
  { opcode: Op.Continuation, payload: 'fragment2' },
];

const seqCases = (
  first: number,
  title: string,
  frames: FrameSpec[],
  expect: (ctx: CaseContext) => Promise<void>,
): ConformanceCase[] =>
  WRITINGS.map((writing, i) => ({
    id: `5.${first + i}`,
    title: `${title}, ${writing}`,
    run: async (ctx) => {
      await sendAs(ctx, frames, writing);
      await expect(ctx);
    },
  }));

const fail1002 = (ctx: CaseContext) => expectFailure(ctx, 1002);

export const fragmentation: CaseGroup = {
  id: '5',
  title: 'Fragmentation',
  cases: [
    {
      id: '5.1',
      title: 'ping fragmented into 2 frames → 1002 (§5.5: control frames are not fragmented)',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Ping, payload: 'fragment1', fin: false },
          { opcode: Op.Continuation, payload: 'fragment2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.2',
      title: 'pong fragmented into 2 frames → 1002',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Pong, payload: 'fragment1', fin: false },
          { opcode: Op.Continuation, payload: 'fragment2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
    ...seqCases(3, 'text in 2 fragments → echoed', TWO_FRAGMENTS, async (ctx) => {
      await ctx.peer.expectText('fragment1fragment2');
      await closeCleanly(ctx);
    }),
    ...seqCases(6, 'text in 2 fragments with a ping between → pong, then echo', WITH_PING, async (ctx) => {
      await ctx.peer.expectPong('ping payload');
      await ctx.peer.expectText('fragment1fragment2');
      await closeCleanly(ctx);
    }),
    ...seqCases(
      9,
      'continuation (fin=1) with nothing to continue, then text → 1002',
      [
        { opcode: Op.Continuation, payload: 'non-continuation payload' },
        { opcode: Op.Text, payload: 'Hello, world!' },
      ],
      fail1002,
    ),
    ...seqCases(
      12,
      'continuation (fin=0) with nothing to continue, then text → 1002',
      [
        { opcode: Op.Continuation, payload: 'non-continuation payload', fin: false },
        { opcode: Op.Text, payload: 'Hello, world!' },
      ],
      fail1002,
    ),
    {
      id: '5.15',
      title: 'text in 2 fragments, then a continuation (fin=0) with nothing to continue → echo, then 1002',
      run: async (ctx) => {
        await ctx.peer.send([
          ...TWO_FRAGMENTS,
          { opcode: Op.Continuation, payload: 'fragment3', fin: false },
          { opcode: Op.Continuation, payload: 'fragment4' },
        ]);
        await ctx.peer.expectText('fragment1fragment2');
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.16',
      title: 'continuation (fin=0) with nothing to continue, then a fragmented text, twice → 1002',
      run: async (ctx) => {
        const round: FrameSpec[] = [
          { opcode: Op.Continuation, payload: 'fragment1', fin: false },
          { opcode: Op.Text, payload: 'fragment2', fin: false },
          { opcode: Op.Continuation, payload: 'fragment3' },
        ];
        await ctx.peer.send([...round, ...round]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.17',
      title: 'continuation (fin=1) with nothing to continue, then a fragmented text, twice → 1002',
      run: async (ctx) => {
        const round: FrameSpec[] = [
          { opcode: Op.Continuation, payload: 'fragment1' },
          { opcode: Op.Text, payload: 'fragment2', fin: false },
          { opcode: Op.Continuation, payload: 'fragment3' },
        ];
        await ctx.peer.send([...round, ...round]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.18',
      title: 'text fragment, then a new text frame instead of a continuation → 1002',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'fragment1', fin: false },
          { opcode: Op.Text, payload: 'fragment2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.19',
      title: 'text in 5 fragments with 2 pings between → both pongs, then the echo',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'fragment1', fin: false },
          { opcode: Op.Continuation, payload: 'fragment2', fin: false },
          { opcode: Op.Ping, payload: 'pongme 1!' },
          { opcode: Op.Continuation, payload: 'fragment3', fin: false },
          { opcode: Op.Continuation, payload: 'fragment4', fin: false },
          { opcode: Op.Ping, payload: 'pongme 2!' },
          { opcode: Op.Continuation, payload: 'fragment5' },
        ]);
        await ctx.peer.expectPong('pongme 1!');
        await ctx.peer.expectPong('pongme 2!');
        await ctx.peer.expectText('fragment1fragment2fragment3fragment4fragment5');
        await closeCleanly(ctx);
      },
    },
    {
      // Autobahn 5.20 pauses between fragments; here each pong is awaited before the message goes on, which
      // shows pings are answered while a message is incomplete, without any timing assumption.
      id: '5.20',
      title: 'text in 5 fragments, each of 2 pings answered before the next fragment is sent → echo',
      run: async (ctx) => {
        const p = ctx.peer;
        await p.send({ opcode: Op.Text, payload: 'fragment1', fin: false });
        await p.send({ opcode: Op.Continuation, payload: 'fragment2', fin: false });
        await p.sendPing('pongme 1!');
        await p.expectPong('pongme 1!');
        await p.send({ opcode: Op.Continuation, payload: 'fragment3', fin: false });
        await p.send({ opcode: Op.Continuation, payload: 'fragment4', fin: false });
        await p.sendPing('pongme 2!');
        await p.expectPong('pongme 2!');
        await p.send({ opcode: Op.Continuation, payload: 'fragment5' });
        await p.expectText('fragment1fragment2fragment3fragment4fragment5');
        await closeCleanly(ctx);
      },
    },
    {
      id: '5.21',
      title: 'binary in 2 fragments → echoed as binary',
      run: async (ctx) => {
        const data = binaryOf(300, 521);
        await ctx.peer.send(fragment(Op.Binary, data, 150));
        await ctx.peer.expectBinary(data);
        await closeCleanly(ctx);
      },
    },
    {
      id: '5.22',
      title: 'text message in 1-byte fragments → echoed',
      run: async (ctx) => {
        await ctx.peer.send(fragment(Op.Text, 'Hello, world! 1-byte fragments', 1));
        await ctx.peer.expectText('Hello, world! 1-byte fragments');
        await closeCleanly(ctx);
      },
    },
    {
      id: '5.23',
      title: 'binary message in 1-byte fragments, written 1 byte at a time → echoed',
      run: async (ctx) => {
        const data = binaryOf(64, 523);
        await ctx.peer.send(fragment(Op.Binary, data, 1), { chunkSize: 1 });
        await ctx.peer.expectBinary(data);
        await closeCleanly(ctx);
      },
    },
    {
      id: '5.24',
      title: 'unsolicited pong between fragments → ignored, message echoed',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'fragment1', fin: false },
          { opcode: Op.Pong, payload: 'unsolicited' },
          { opcode: Op.Continuation, payload: 'fragment2' },
        ]);
        await ctx.peer.expectText('fragment1fragment2');
        await closeCleanly(ctx);
      },
    },
    {
      id: '5.25',
      title: 'binary frame inside a fragmented text message → 1002',
      run: async (ctx) => {
        await echo(ctx, Op.Text, 'before');
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'fragment1', fin: false },
          { opcode: Op.Binary, payload: Buffer.from([1, 2]) },
          { opcode: Op.Continuation, payload: 'fragment2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.26',
      title: 'close frame with fin=0 → 1002',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]), fin: false });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '5.27',
      title: 'two fragmented messages back to back (text, then binary) → both echoed',
      run: async (ctx) => {
        const data = binaryOf(10, 527);
        await ctx.peer.send([...fragment(Op.Text, 'abcdefghij', 3), ...fragment(Op.Binary, data, 4)]);
        await ctx.peer.expectText('abcdefghij');
        await ctx.peer.expectBinary(data);
        await closeCleanly(ctx);
      },
    },
  ],
};
