// Group 10 — fragmentation of outgoing messages. 10.1 (Autobahn 10.1.1): a message the suite fragments is
// echoed. 10.2: with the `fragmentSize` option, the endpoint under test must itself split what it sends
// into frames of at most that many payload bytes — a valid fragmented message (§5.4) that reassembles to
// the original. Skipped for implementations without the option (ws has none).
import type { CaseGroup, ConformanceCase } from '../case.js';
import { fragment, Op } from '../frames.js';
import { asciiOf, binaryOf, textOf } from '../payloads.js';
import { closeCleanly } from './steps.js';

function autoFragmented(id: string, fragmentSize: number, opcode: number, payload: Buffer): ConformanceCase {
  const kind = opcode === Op.Text ? 'text' : 'binary';
  return {
    id,
    title: `fragmentSize ${fragmentSize}: ${payload.length}-byte ${kind} echoed in frames of ≤ ${fragmentSize} bytes`,
    options: { fragmentSize },
    requires: 'fragmentSize',
    run: async (ctx) => {
      await ctx.peer.send({ opcode, payload });
      const frames = await ctx.peer.expectMessage(opcode, payload);
      const sizes = frames.map((f) => f.payload.length);
      const over = sizes.filter((n) => n > fragmentSize);
      if (over.length > 0) throw new Error(`frames over ${fragmentSize} bytes: ${over.join(', ')}`);
      const minimum = Math.ceil(payload.length / fragmentSize);
      if (frames.length < minimum) throw new Error(`${frames.length} frames, expected at least ${minimum}`);
      await closeCleanly(ctx);
    },
  };
}

export const autofragmentation: CaseGroup = {
  id: '10',
  title: 'Autofragmentation',
  cases: [
    {
      id: '10.1.1',
      title: '65536-byte text received in 1300-byte fragments → echoed',
      run: async (ctx) => {
        const payload = asciiOf(65536);
        await ctx.peer.send(fragment(Op.Text, payload, 1300));
        await ctx.peer.expectText(payload);
        await closeCleanly(ctx);
      },
    },
    autoFragmented('10.2.1', 1300, Op.Text, asciiOf(65536)),
    autoFragmented('10.2.2', 1024, Op.Binary, binaryOf(10_000, 102)),
    // Fragment boundaries fall inside multi-byte characters; §5.6 only requires the whole message be UTF-8.
    autoFragmented('10.2.3', 7, Op.Text, textOf(1000)),
    autoFragmented('10.2.4', 1024, Op.Binary, binaryOf(1024, 104)),
    autoFragmented('10.2.5', 1024, Op.Text, asciiOf(100)),
  ],
};
