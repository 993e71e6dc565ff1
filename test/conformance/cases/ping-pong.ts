// Group 2 — pings and pongs (§5.5.2, §5.5.3): a Ping is answered by a Pong with the identical payload,
// control payloads are at most 125 bytes, unsolicited Pongs are ignored.
import type { CaseContext, CaseGroup, ConformanceCase } from '../case.js';
import { Op } from '../frames.js';
import { binaryOf } from '../payloads.js';
import { closeCleanly, expectFailure, sentinel } from './steps.js';

const BINARY_8 = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);

function pingPong(id: string, title: string, payload: Buffer | string, chunkSize?: number): ConformanceCase {
  return {
    id,
    title,
    run: async (ctx: CaseContext) => {
      await ctx.peer.send({ opcode: Op.Ping, payload }, { chunkSize });
      await ctx.peer.expectPong(payload);
      await closeCleanly(ctx);
    },
  };
}

export const pingPongGroup: CaseGroup = {
  id: '2',
  title: 'Pings and pongs',
  cases: [
    pingPong('2.1', 'ping without payload → pong without payload', ''),
    pingPong('2.2', 'ping with a short text payload → pong with the same payload', 'Hello, world!'),
    pingPong('2.3', 'ping with a short binary payload → pong with the same payload', BINARY_8),
    pingPong('2.4', 'ping with a 125-byte binary payload → pong with the same payload', binaryOf(125, 24)),
    {
      id: '2.5',
      title: 'ping with a 126-byte payload → 1002 (§5.5: control payload ≤ 125)',
      run: async (ctx) => {
        await ctx.peer.send({ opcode: Op.Ping, payload: binaryOf(126, 25) });
        await expectFailure(ctx, 1002);
      },
    },
    pingPong('2.6', 'ping with a 125-byte payload written 1 byte at a time → pong', binaryOf(125, 26), 1),
    {
      id: '2.7',
      title: 'unsolicited pong without payload → ignored',
      run: async (ctx) => {
        await ctx.peer.sendPong();
        await sentinel(ctx);
        await closeCleanly(ctx);
      },
    },
    {
      id: '2.8',
      title: 'unsolicited pong with payload → ignored',
      run: async (ctx) => {
        await ctx.peer.sendPong('unsolicited pong payload');
        await sentinel(ctx);
        await closeCleanly(ctx);
      },
    },
    {
      id: '2.9',
      title: 'unsolicited pong, then ping → exactly one pong, with the ping payload',
      run: async (ctx) => {
        await ctx.peer.send([
          { opcode: Op.Pong, payload: 'unsolicited pong payload' },
          { opcode: Op.Ping, payload: 'ping payload' },
        ]);
        await ctx.peer.expectPong('ping payload');
        await sentinel(ctx);
        await closeCleanly(ctx);
      },
    },
    {
      // §5.5.3 would let an endpoint answer only the latest of several unanswered pings; like Autobahn 2.10,
      // the suite expects an endpoint that answers every ping it has processed.
      id: '2.10',
      title: '10 pings in one write → 10 pongs in order',
      run: async (ctx) => {
        const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
        await ctx.peer.send(payloads.map((payload) => ({ opcode: Op.Ping, payload })));
        for (const p of payloads) await ctx.peer.expectPong(p);
        await closeCleanly(ctx);
      },
    },
    {
      id: '2.11',
      title: '10 pings written 1 byte at a time → 10 pongs in order',
      run: async (ctx) => {
        const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
        await ctx.peer.send(
          payloads.map((payload) => ({ opcode: Op.Ping, payload })),
          { chunkSize: 1 },
        );
        for (const p of payloads) await ctx.peer.expectPong(p);
        await closeCleanly(ctx);
      },
    },
    {
      id: '2.12',
      title: 'pings with every payload length 0..125, one at a time → pongs with identical payloads',
      run: async (ctx) => {
        for (let n = 0; n <= 125; n++) {
          const payload = binaryOf(n, 1000 + n);
          await ctx.peer.sendPing(payload);
          await ctx.peer.expectPong(payload);
        }
        await closeCleanly(ctx);
      },
    },
  ],
};
