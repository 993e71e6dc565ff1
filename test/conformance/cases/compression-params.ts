// Group 13 — permessage-deflate parameters (RFC 7692 §7.1), after Autobahn's group 13: context takeover on
// or off in each direction, and server_max_window_bits / client_max_window_bits from 9 to 15. The runner
// checks that the endpoint offered (client) or answered (server) exactly these parameters; the cases then
// check that both ends keep to them. Messages repeat a block a little longer than each negotiated window,
// and the same message is sent twice: an endpoint compressing with a larger window than negotiated, or
// with context where it was ruled out, sends data the suite cannot inflate. 13.13: several offers.

import { answerFor, type DeflateParams, NO_TAKEOVER, paramsOf } from '../deflate.js';
import type { DeflateCase, DeflateGroup } from '../deflate-case.js';
import { compressedFrames, expectDeflated } from '../deflate-case.js';
import { Op } from '../frames.js';
import { repeatingBinary } from './compression.js';
import { closeCleanly } from './steps.js';

type Combo = [server: boolean, client: boolean, serverBits: number, clientBits: number];

/** [server_no_context_takeover, client_no_context_takeover, server_max_window_bits, client_max_window_bits] */
const COMBOS: Combo[] = [
  [false, false, 15, 15],
  [true, true, 15, 15],
  [false, false, 15, 9],
  [true, true, 15, 9],
  [false, false, 9, 15],
  [true, true, 9, 15],
  [false, false, 9, 9],
  [true, true, 9, 9],
  [false, false, 12, 10],
  [true, false, 10, 12],
  [false, true, 11, 13],
  [false, false, 14, 11],
];

const SIZES = [256, 8 * 1024, 64 * 1024];

/** A text message (printable ASCII) repeating a pseudo-random block of `block` bytes. */
function repeatingText(n: number, seed: number, block: number): Buffer {
  const out = repeatingBinary(n, seed, block);
  for (let i = 0; i < n; i++) out[i] = 0x20 + (out[i] % 95);
  return out;
}

/**
 * Repeat distances. zlib reaches back 2^bits - 262 bytes (the rest of the window is lookahead). Past the
 * window (2^bits + 100): only a compressor with a larger window than negotiated refers back that far, and
 * the suite's inflater, with the negotiated window, then fails. Within the reach (2^bits - 300): the
 * suite's compressor refers back that far, and the endpoint's inflater needs the whole negotiated window.
 */
const pastWindow = (bits: number) => (bits < 15 ? (1 << bits) + 100 : 700);
const withinWindow = (bits: number) => (1 << bits) - 300;

function describe(p: DeflateParams): string {
  const takeover = (no: boolean) => (no ? 'no takeover' : 'takeover');
  return (
    `server ${takeover(p.serverNoContextTakeover)} window ${p.serverMaxWindowBits}, ` +
    `client ${takeover(p.clientNoContextTakeover)} window ${p.clientMaxWindowBits}`
  );
}

function combo(index: number, [snct, cnct, sbits, cbits]: Combo): DeflateCase[] {
  const params: DeflateParams = {
    serverNoContextTakeover: snct,
    clientNoContextTakeover: cnct,
    serverMaxWindowBits: sbits,
    clientMaxWindowBits: cbits,
  };
  return SIZES.map((n, i) => ({
    id: `13.${index + 1}.${i + 1}`,
    title: `${describe(params)}: text and binary of ${n} bytes, each twice → echoed`,
    params,
    run: async (ctx) => {
      const side = ctx.side;
      const endpointBits = side === 'server' ? sbits : cbits;
      const suiteBits = side === 'server' ? cbits : sbits;
      const messages: Array<[number, Buffer]> = [];
      for (const block of [pastWindow(endpointBits), withinWindow(suiteBits)]) {
        messages.push([Op.Text, repeatingText(n, block, block)]);
        messages.push([Op.Binary, repeatingBinary(n, block, block)]);
      }
      const twice = [...messages, ...messages];
      const frames = [];
      for (const [opcode, m] of twice) frames.push(...compressedFrames(opcode, await ctx.codec.compress(m)));
      await ctx.peer.send(frames);
      for (const [opcode, m] of twice) await expectDeflated(ctx, opcode, m, { compressed: true });
      await closeCleanly(ctx);
    },
  }));
}

const severalOffers: DeflateCase[] = [
  {
    id: '13.13.1',
    title: 'offers "server_max_window_bits=99" then "client_no_context_takeover": the second is accepted',
    only: 'server',
    params: { ...NO_TAKEOVER, serverNoContextTakeover: false, clientNoContextTakeover: true },
    deflateOptions: { serverNoContextTakeover: false, clientNoContextTakeover: false },
    offer: 'permessage-deflate; server_max_window_bits=99, permessage-deflate; client_no_context_takeover',
    skip: (impl) =>
      impl === 'ws' ? 'ws deviation: one malformed offer fails the handshake (400)' : undefined,
    run: async (ctx) => {
      const answer = ctx.peer.extensions.answer ?? '';
      const expected = answerFor({ ...NO_TAKEOVER, serverNoContextTakeover: false });
      if (paramsOf(answer).join() !== paramsOf(expected).join()) throw new Error(`answered ${answer}`);
      const text = repeatingText(4000, 1, 700);
      for (let k = 0; k < 2; k++) {
        await ctx.peer.send(compressedFrames(Op.Text, await ctx.codec.compress(text)));
        await expectDeflated(ctx, Op.Text, text, { compressed: true });
      }
      await closeCleanly(ctx);
    },
  },
  {
    id: '13.13.2',
    title: 'offers with unknown or repeated parameters, or window 8, are declined: no extension, RSV1 → 1002',
    only: 'server',
    params: null,
    offer:
      'permessage-deflate; foo, permessage-deflate; server_no_context_takeover; server_no_context_takeover, ' +
      'permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits=16, x-other',
    skip: (impl) => (impl === 'ws' ? 'ws deviation: a malformed offer fails the handshake (400)' : undefined),
    run: async (ctx) => {
      if (ctx.peer.extensions.answer !== undefined) {
        throw new Error(`accepted ${ctx.peer.extensions.answer}`);
      }
      await ctx.peer.sendText('not compressed');
      await ctx.peer.expectText('not compressed');
      await ctx.peer.send({ opcode: Op.Text, payload: Buffer.from([0x00]), rsv: 0b100 });
      await ctx.peer.expectClose(1002);
      await ctx.expectClosed();
    },
  },
];

export const compressionParams: DeflateGroup = {
  id: '13',
  title: 'permessage-deflate: parameters',
  cases: [...COMBOS.flatMap((c, i) => combo(i, c)), ...severalOffers],
};
