// Group 4 — opcodes (§5.2): reserved non-control (0x3-0x7) and control (0xB-0xF) opcodes must fail the
// connection with 1002; what came before is still echoed, a ping after is not answered.
import type { CaseGroup, ConformanceCase } from '../case.js';
import { type FrameSpec, Op } from '../frames.js';
import { echo, expectFailure } from './steps.js';

function reservedOpcodeCases(sub: number, opcodes: number[]): ConformanceCase[] {
  return opcodes.flatMap((opcode, i): ConformanceCase[] => {
    const hex = `0x${opcode.toString(16).toUpperCase()}`;
    return [
      {
        id: `4.${sub}.${i * 2 + 1}`,
        title: `frame with reserved opcode ${hex}, empty → 1002`,
        run: async (ctx) => {
          await ctx.peer.send({ opcode });
          await expectFailure(ctx, 1002);
        },
      },
      {
        id: `4.${sub}.${i * 2 + 2}`,
        title: `valid text, opcode ${hex} with payload, ping → echo, then 1002, no pong`,
        run: async (ctx) => {
          const frames: FrameSpec[] = [
            { opcode: Op.Text, payload: 'Hello, world!' },
            { opcode, payload: 'reserved opcode payload' },
            { opcode: Op.Ping },
          ];
          await ctx.peer.send(frames);
          await ctx.peer.expectText('Hello, world!');
          await expectFailure(ctx, 1002);
        },
      },
    ];
  });
}

export const opcodes: CaseGroup = {
  id: '4',
  title: 'Opcodes',
  cases: [
    ...reservedOpcodeCases(1, [0x3, 0x4, 0x5, 0x6, 0x7]),
    ...reservedOpcodeCases(2, [0xb, 0xc, 0xd, 0xe, 0xf]),
    {
      id: '4.3.1',
      title: 'reserved opcode 0x3 between the fragments of a text message → 1002',
      run: async (ctx) => {
        await echo(ctx, Op.Text, 'before');
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'frag1', fin: false },
          { opcode: 0x3, payload: 'reserved' },
          { opcode: Op.Continuation, payload: 'frag2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '4.3.2',
      title: 'reserved control opcode 0xB between the fragments of a text message → 1002',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'frag1', fin: false },
          { opcode: 0xb, payload: 'reserved' },
          { opcode: Op.Continuation, payload: 'frag2' },
        ]);
        await expectFailure(ctx, 1002);
      },
    },
  ],
};
