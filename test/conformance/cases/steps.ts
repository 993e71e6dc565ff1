// Steps shared by many cases.
import type { CaseContext } from '../case.js';
import type { SendOptions } from '../frame-peer.js';
import { Op } from '../frames.js';

/** The suite starts the closing handshake with 1000; the endpoint must echo it and the connection end. */
export async function closeCleanly(ctx: CaseContext): Promise<void> {
  await ctx.peer.sendClose(1000);
  await ctx.peer.expectClose(1000);
  await ctx.expectClosed(1000);
}

/** The endpoint under test must fail the connection with `code` (§7.1.7) and the connection end. */
export async function expectFailure(ctx: CaseContext, code: number): Promise<void> {
  await ctx.peer.expectClose(code);
  await ctx.expectClosed();
}

/** Sends one message as a single frame and expects it echoed. */
export async function echo(
  ctx: CaseContext,
  opcode: number,
  payload: Buffer | string,
  opts?: SendOptions & { timeoutMs?: number },
): Promise<void> {
  await ctx.peer.send({ opcode, payload }, opts);
  await ctx.peer.expectMessage(opcode, payload, opts?.timeoutMs);
}

/** Sends one message, expects the echo, then closes cleanly: the shape of most passing cases. */
export async function echoThenClose(
  ctx: CaseContext,
  opcode: number,
  payload: Buffer | string,
  opts?: SendOptions & { timeoutMs?: number },
): Promise<void> {
  await echo(ctx, opcode, payload, opts);
  await closeCleanly(ctx);
}

/** A sentinel round trip: proves the endpoint sent nothing in between (frames arrive in order). */
export async function sentinel(ctx: CaseContext): Promise<void> {
  await echo(ctx, Op.Text, 'sentinel');
}
