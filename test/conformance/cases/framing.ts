// Group 1 — framing: messages of every length-encoding boundary (§5.2), in one frame, written whole or in
// chunks; masking by role (§5.1); many messages pipelined in one write.
import type { CaseContext, CaseGroup, ConformanceCase } from '../case.js';
import { buildFrame, Op } from '../frames.js';
import { asciiOf, binaryOf } from '../payloads.js';
import { closeCleanly, echo, echoThenClose, expectFailure } from './steps.js';

// 125 / 126 / 127 / 65535 / 65536 straddle the 7-bit, 16-bit and 64-bit length encodings.
const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

function sizeCases(sub: number, kind: 'text' | 'binary'): ConformanceCase[] {
  const opcode = kind === 'text' ? Op.Text : Op.Binary;
  const payload = (n: number) => (kind === 'text' ? asciiOf(n) : binaryOf(n, n + 1));
  const cases: ConformanceCase[] = SIZES.map((n, i) => ({
    id: `1.${sub}.${i + 1}`,
    title: `${kind} message of ${n} bytes → echoed`,
    run: (ctx) => echoThenClose(ctx, opcode, payload(n)),
  }));
  const chunked: Array<[number, number]> = [
    [65536, 997],
    [127, 1],
    [128, 1],
    [65536, 1],
  ];
  let j = SIZES.length;
  for (const [n, chunk] of chunked) {
    if (n === 65536 && chunk === 1) {
      // Only the header is split byte by byte; 65536 one-byte writes would only test the OS.
      cases.push({
        id: `1.${sub}.${++j}`,
        title: `${kind} message of ${n} bytes, 64-bit length header written 1 byte at a time → echoed`,
        run: async (ctx) => {
          const frame = buildFrame({ opcode, payload: payload(n) }, ctx.peer.role === 'client');
          const headerLen = ctx.peer.role === 'client' ? 14 : 10;
          await ctx.peer.sendBytes(frame.subarray(0, headerLen), { chunkSize: 1 });
          await ctx.peer.sendBytes(frame.subarray(headerLen));
          await ctx.peer.expectMessage(opcode, payload(n));
          await closeCleanly(ctx);
        },
      });
      continue;
    }
    cases.push({
      id: `1.${sub}.${++j}`,
      title: `${kind} message of ${n} bytes written in ${chunk}-byte chunks → echoed`,
      run: (ctx) => echoThenClose(ctx, opcode, payload(n), { chunkSize: chunk }),
    });
  }
  return cases;
}

async function pipelined(ctx: CaseContext): Promise<void> {
  const messages = Array.from({ length: 200 }, (_, i) =>
    i % 2 ? { opcode: Op.Binary, payload: binaryOf(i * 7, i) } : { opcode: Op.Text, payload: asciiOf(i * 7) },
  );
  await ctx.peer.send(messages);
  for (const m of messages) await ctx.peer.expectMessage(m.opcode, m.payload);
  await closeCleanly(ctx);
}

export const framing: CaseGroup = {
  id: '1',
  title: 'Framing',
  cases: [
    ...sizeCases(1, 'text'),
    ...sizeCases(2, 'binary'),
    {
      id: '1.3.1',
      title: 'unmasked text frame from the client → 1002 (§5.1)',
      only: 'server',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Text, payload: 'Hello', mask: false });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '1.3.2',
      title: 'masked text frame from the server → 1002 (§5.1)',
      only: 'client',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Text, payload: 'Hello', mask: true });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '1.3.3',
      title: 'valid message, then a ping with the wrong masking for its sender → echo, then 1002 (§5.1)',
      run: async (ctx) => {
        await echo(ctx, Op.Text, 'Hello');
        await ctx.peer.send({ opcode: Op.Ping, payload: 'wrongly masked', mask: ctx.side === 'client' });
        await expectFailure(ctx, 1002);
      },
    },
    {
      id: '1.4.1',
      title: '200 text/binary messages of 0-1393 bytes pipelined in one write → all echoed in order',
      run: pipelined,
    },
  ],
};
