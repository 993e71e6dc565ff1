// Group 7 — the closing handshake (§5.5.1, §7): a Close frame is answered with a Close frame echoing the
// code, nothing is processed or sent after it, the server then closes TCP; malformed Close frames (1-byte
// payload, reserved or unassigned codes, too long, reason not UTF-8) fail the connection.
import type { CaseGroup, ConformanceCase } from '../case.js';
import { closePayload, Op } from '../frames.js';
import { asciiOf } from '../payloads.js';
import { closeCleanly, echo, expectFailure } from './steps.js';

const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999];

const validCodeCases: ConformanceCase[] = VALID_CODES.map((code, i) => ({
  id: `7.7.${i + 1}`,
  title: `close with code ${code} → Close ${code} echoed, TCP closed`,
  run: async (ctx) => {
    await ctx.peer.sendClose(code);
    await ctx.peer.expectClose(code);
    await ctx.expectClosed(code);
  },
}));

const invalidCodeCases: ConformanceCase[] = INVALID_CODES.map((code, i) => ({
  id: `7.9.${i + 1}`,
  title: `close with code ${code} → 1002 (§7.4)`,
  run: async (ctx) => {
    await ctx.peer.sendClose(code);
    await ctx.peer.expectClose(1002);
    await ctx.expectClosed();
  },
}));

export const closeGroup: CaseGroup = {
  id: '7',
  title: 'Close handling',
  cases: [
    {
      id: '7.1.1',
      title: 'text echoed, then close 1000 → Close 1000, TCP closed',
      run: async (ctx) => {
        await echo(ctx, Op.Text, 'Hello World');
        await closeCleanly(ctx);
      },
    },
    {
      id: '7.1.2',
      title: 'close, then a second close → a single Close answer, TCP closed',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Close, payload: closePayload(1000) },
          { opcode: Op.Close, payload: closePayload(1000) },
        ]);
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.1.3',
      title: 'close, then ping → Close answer, no pong',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Close, payload: closePayload(1000) },
          { opcode: Op.Ping, payload: 'ping after close' },
        ]);
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.1.4',
      title: 'close, then text → Close answer, no echo',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Close, payload: closePayload(1000) },
          { opcode: Op.Text, payload: 'text after close' },
        ]);
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.1.5',
      title: 'first text fragment, close, final fragment → Close answer, no echo',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Text, payload: 'fragment1', fin: false },
          { opcode: Op.Close, payload: closePayload(1000) },
          { opcode: Op.Continuation, payload: 'fragment2' },
        ]);
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      // Autobahn rates the echoes here informational: an endpoint may or may not finish echoing before it
      // handles the Close. What the RFC fixes: any echo is intact and in order, the Close answer comes
      // last, and the ping after the Close is never answered.
      id: '7.1.6',
      title: '256 KiB text, small text, close, ping back to back → intact echoes (if any), Close, no pong',
      run: async (ctx) => {
        const big = asciiOf(256 * 1024);
        await ctx.peer.send([
          { opcode: Op.Text, payload: big },
          { opcode: Op.Text, payload: 'Hello World!' },
          { opcode: Op.Close, payload: closePayload(1000) },
          { opcode: Op.Ping },
        ]);
        const expected = [big, Buffer.from('Hello World!')];
        let f = await ctx.peer.nextFrame('echoes or the Close answer');
        while (f.opcode !== Op.Close) {
          const want = expected.shift();
          if (f.opcode !== Op.Text || !want)
            throw new Error(`unexpected frame (opcode ${f.opcode}) before the Close`);
          const parts = [f.payload];
          while (!f.fin) {
            f = await ctx.peer.nextFrame('a continuation');
            if (f.opcode !== Op.Continuation) throw new Error(`opcode ${f.opcode} inside a fragmented echo`);
            parts.push(f.payload);
          }
          if (!Buffer.concat(parts).equals(want)) throw new Error('an echo differs from the message sent');
          f = await ctx.peer.nextFrame('the Close answer');
        }
        if (f.payload.length < 2 || f.payload.readUInt16BE(0) !== 1000)
          throw new Error('Close answer is not 1000');
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.3.1',
      title: 'close with an empty payload → Close with an empty payload (the echo of §5.5.1), TCP closed',
      run: async (ctx) => {
        await ctx.peer.sendClose();
        await ctx.peer.expectClose('empty');
        await ctx.expectClosed(1005);
      },
    },
    {
      id: '7.3.2',
      title: 'close with a 1-byte payload → 1002 (§5.5.1)',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Close, payload: Buffer.from([0x03]) });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '7.3.3',
      title: 'close with code 1000 and no reason → Close 1000',
      run: async (ctx) => {
        await ctx.peer.sendClose(1000);
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.3.4',
      title: 'close with code 1000 and a reason → Close 1000',
      run: async (ctx) => {
        await ctx.peer.sendClose(1000, 'Hello World!');
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.3.5',
      title: 'close with code 1000 and a 123-byte reason (125-byte payload) → Close 1000',
      run: async (ctx) => {
        await ctx.peer.sendClose(1000, asciiOf(123));
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.3.6',
      title: 'close with code 1000 and a 124-byte reason (126-byte payload) → 1002 (§5.5)',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Close, payload: closePayload(1000, asciiOf(124)) });
        await ctx.peer.expectClose(1002);
        await ctx.expectClosed();
      },
    },
    {
      id: '7.3.7',
      title: 'close 1000 with a multi-byte UTF-8 reason → Close 1000',
      run: async (ctx) => {
        await ctx.peer.sendClose(1000, 'κόσμε 𝄞 bye');
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.3.8',
      title: 'close written 1 byte at a time → Close 1000, TCP closed',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Close, payload: closePayload(1000, 'bye') }, { chunkSize: 1 });
        await ctx.peer.expectClose(1000);
        await ctx.expectClosed(1000);
      },
    },
    {
      id: '7.5.1',
      title: 'close 1000 with a reason that is not UTF-8 → 1007 (§8.1)',
      run: async (ctx) => {
        const reason = Buffer.concat([
          Buffer.from('κόσμε'),
          Buffer.from('eda080', 'hex'),
          Buffer.from('edited'),
        ]);
        await ctx.peer.sendClose(1000, reason);
        await ctx.peer.expectClose(1007);
        await ctx.expectClosed();
      },
    },
    {
      id: '7.5.2',
      title: 'close 1000 with a reason truncated inside a code point → 1007',
      run: async (ctx) => {
        await ctx.peer.sendClose(1000, Buffer.from('bye \xce', 'latin1'));
        await ctx.peer.expectClose(1007);
        await ctx.expectClosed();
      },
    },
    ...validCodeCases,
    ...invalidCodeCases,
  ],
};
