// What a permessage-deflate conformance case is (groups 12 and 13), and the steps its cases share. A case
// says what to negotiate; the runner (deflate.test.ts) configures the endpoint under test, makes the offer
// (server under test) or the answer (client under test), checks what the endpoint said in the handshake,
// and gives the case a codec that keeps to the negotiated parameters in both directions.
import type { CaseContext, CaseOptions, Side } from './case.js';
import { type DeflateParams, NO_TAKEOVER, type SuiteCodec } from './deflate.js';
import type { SendOptions } from './frame-peer.js';
import { describeFrame, type Frame, Op, Rsv } from './frames.js';
import type { ImplName } from './impl.js';

export interface DeflateCaseContext extends CaseContext {
  /** What was negotiated; null when permessage-deflate was not. */
  params: DeflateParams | null;
  /** Compresses what the suite sends and inflates what the endpoint sends, as negotiated. */
  codec: SuiteCodec;
}

export interface DeflateCase {
  id: string;
  title: string;
  run(ctx: DeflateCaseContext): Promise<void>;
  /**
   * What to negotiate (missing fields as in NO_TAKEOVER, wskit's server default); null: the endpoint
   * has permessage-deflate on but nothing is negotiated (no offer, or an answer without it).
   */
  params?: Partial<DeflateParams> | null;
  /** More `perMessageDeflate` options for the endpoint (the runner sets threshold 0 unless given). */
  deflateOptions?: Record<string, unknown>;
  /** Other options of the endpoint under test. */
  options?: CaseOptions;
  /** The offer the suite sends instead of the one made from `params` (server under test only). */
  offer?: string;
  only?: Side;
  skip?: (impl: ImplName, side: Side) => string | undefined;
  /** The endpoint needs wskit's fragmentSize option. */
  requiresFragmentSize?: boolean;
  timeout?: number;
}

export interface DeflateGroup {
  id: string;
  title: string;
  cases: DeflateCase[];
}

export function paramsOfCase(c: DeflateCase): DeflateParams | null {
  return c.params === null ? null : { ...NO_TAKEOVER, ...c.params };
}

/** Splits the compressed bytes into data frames: RSV1 on the first only (RFC 7692 §6.1). */
export function compressedFrames(
  opcode: number,
  compressed: Buffer,
  fragmentSize = compressed.length,
): Array<{ opcode: number; payload: Buffer; fin: boolean; rsv: number }> {
  const size = Math.max(1, fragmentSize);
  const frames = [];
  for (let at = 0; at === 0 || at < compressed.length; at += size) {
    const end = Math.min(at + size, compressed.length);
    frames.push({
      opcode: at === 0 ? opcode : Op.Continuation,
      payload: compressed.subarray(at, end),
      fin: end === compressed.length,
      rsv: at === 0 ? Rsv.RSV1 : 0,
    });
  }
  return frames;
}

/** Sends one message compressed (in fragments of `fragmentSize` compressed bytes, if given). */
export async function sendCompressed(
  ctx: DeflateCaseContext,
  opcode: number,
  payload: Buffer | string,
  opts: SendOptions & { fragmentSize?: number } = {},
): Promise<void> {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const compressed = await ctx.codec.compress(data);
  await ctx.peer.send(compressedFrames(opcode, compressed, opts.fragmentSize), opts);
}

export interface Received {
  /** The message's frames as they came. */
  frames: Frame[];
  /** Whether RSV1 was set (the message was compressed). */
  compressed: boolean;
  /** Payload bytes on the wire (compressed size when compressed). */
  wireLength: number;
}

/**
 * Expects the next frames to form one message of type `opcode` whose payload, inflated when RSV1 is set,
 * is `payload`. `compressed` requires RSV1 set (true) or clear (false); undefined accepts either.
 */
export async function expectDeflated(
  ctx: DeflateCaseContext,
  opcode: number,
  payload: Buffer | string,
  opts: { compressed?: boolean; timeoutMs?: number } = {},
): Promise<Received> {
  const expected = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const kind = opcode === Op.Text ? 'text' : 'binary';
  const what = `the echo of a ${expected.length}-byte ${kind} message`;
  const fail = (message: string): never => {
    throw new Error(`${message}; received: ${ctx.peer.log}`);
  };
  const first = await ctx.peer.nextFrame(what, opts.timeoutMs);
  if (first.opcode !== opcode) fail(`expected ${what}, got ${describeFrame(first)}`);
  const frames = [first];
  while (!frames[frames.length - 1].fin) {
    const f = await ctx.peer.nextFrame(`the continuation of ${what}`, opts.timeoutMs);
    if (f.opcode !== Op.Continuation) fail(`expected a continuation of ${what}, got ${describeFrame(f)}`);
    frames.push(f);
  }
  const compressed = (first.rsv & Rsv.RSV1) !== 0;
  if (opts.compressed !== undefined && compressed !== opts.compressed) {
    fail(`${what} was sent ${compressed ? 'compressed (RSV1 set)' : 'uncompressed (RSV1 clear)'}`);
  }
  const wire = frames.length === 1 ? first.payload : Buffer.concat(frames.map((f) => f.payload));
  let got = wire;
  if (compressed) {
    try {
      got = await ctx.codec.inflate(wire);
    } catch (err) {
      fail(
        `${what} does not inflate with window ${ctx.codec.receiveBits}` +
          `${ctx.codec.receiveTakeover ? '' : ' and no context takeover'} (${(err as Error).message})`,
      );
    }
  }
  if (!got.equals(expected)) fail(`${what}: got ${got.length} bytes that differ from the ones sent`);
  return { frames, compressed, wireLength: wire.length };
}
