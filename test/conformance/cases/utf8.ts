// Group 6 — UTF-8 in text messages (§5.6, §8.1): valid text is echoed however it is fragmented, even when
// fragments split a code point; invalid text fails the connection with 1007. Fail-fast cases (Autobahn
// 6.4) require the endpoint to give up as soon as the bytes it has cannot begin valid UTF-8 — before the
// rest of the message is even sent.
import type { CaseContext, CaseGroup, ConformanceCase } from '../case.js';
import { wsDeviation } from '../case.js';
import { buildFrame, type FrameSpec, fragment, Op } from '../frames.js';
import { checkUtf8 } from '../utf8.js';
import { expectedValid, UTF8_CATEGORIES } from '../utf8-vectors.js';
import { closeCleanly, echoThenClose, expectFailure } from './steps.js';

const NOT_FAIL_FAST = wsDeviation(
  'UTF-8 is validated only once the whole message has arrived, not while its fragments or a frame arrive',
);

const KOSME = Buffer.from('κόσμε');
const KOSME_EDITED_INVALID = Buffer.concat([KOSME, Buffer.from('eda080', 'hex'), Buffer.from('edited')]);
const MIXED = 'Hello-µ@ßöäüàá-UTF-8!!';

function show(v: Buffer): string {
  const h = v.length > 16 ? `${v.subarray(0, 16).toString('hex')}… (${v.length} bytes)` : v.toString('hex');
  return `0x${h || '(empty)'}`;
}

async function expectTextEcho(ctx: CaseContext, frames: FrameSpec[], text: Buffer | string): Promise<void> {
  await ctx.peer.send(frames);
  await ctx.peer.expectText(text);
  await closeCleanly(ctx);
}

/** Sends the first `upTo` bytes of a text message as 1-byte fragments, never finishing it, then expects 1007. */
async function failFastFragments(ctx: CaseContext, bytes: Buffer, upTo: number): Promise<void> {
  const frames = fragment(Op.Text, bytes.subarray(0, upTo), 1);
  frames[frames.length - 1].fin = false;
  await ctx.peer.send(frames);
  await expectFailure(ctx, 1007);
}

/**
 * Sends a single text frame (fin=1) carrying `parts`, but writes only the header and the first
 * `written` parts; the endpoint must fail on the bytes seen so far.
 */
async function failFastWithinFrame(ctx: CaseContext, parts: Buffer[], written: number): Promise<void> {
  const payload = Buffer.concat(parts);
  const frame = buildFrame({ opcode: Op.Text, payload }, ctx.peer.role === 'client');
  const headerLen = frame.length - payload.length;
  await ctx.peer.sendBytes(frame.subarray(0, headerLen));
  let off = headerLen;
  for (const part of parts.slice(0, written)) {
    await ctx.peer.sendBytes(frame.subarray(off, off + part.length));
    off += part.length;
  }
  await expectFailure(ctx, 1007);
}

const basics: ConformanceCase[] = [
  {
    id: '6.1.1',
    title: 'empty text message → echoed',
    run: (ctx) => echoThenClose(ctx, Op.Text, ''),
  },
  {
    id: '6.1.2',
    title: 'text message in 3 empty fragments → empty message echoed',
    run: (ctx) =>
      expectTextEcho(
        ctx,
        [
          { opcode: Op.Text, fin: false },
          { opcode: Op.Continuation, fin: false },
          { opcode: Op.Continuation },
        ],
        '',
      ),
  },
  {
    id: '6.1.3',
    title: 'text fragments: empty, "middle frame payload", empty → echoed',
    run: (ctx) =>
      expectTextEcho(
        ctx,
        [
          { opcode: Op.Text, fin: false },
          { opcode: Op.Continuation, fin: false, payload: 'middle frame payload' },
          { opcode: Op.Continuation },
        ],
        'middle frame payload',
      ),
  },
  {
    id: '6.2.1',
    title: `valid multi-byte text "${MIXED}" in one frame → echoed`,
    run: (ctx) => echoThenClose(ctx, Op.Text, MIXED),
  },
  {
    id: '6.2.2',
    title: 'valid multi-byte text in 2 fragments split at a code point boundary → echoed',
    run: (ctx) =>
      expectTextEcho(
        ctx,
        [
          { opcode: Op.Text, fin: false, payload: 'Hello-µ@ßöä' },
          { opcode: Op.Continuation, payload: 'üàá-UTF-8!!' },
        ],
        MIXED,
      ),
  },
  {
    id: '6.2.3',
    title: 'valid multi-byte text in 1-byte fragments (splitting code points) → echoed',
    run: (ctx) => expectTextEcho(ctx, fragment(Op.Text, MIXED, 1), MIXED),
  },
  {
    id: '6.2.4',
    title: '"κόσμε" in 1-byte fragments → echoed',
    run: (ctx) => expectTextEcho(ctx, fragment(Op.Text, KOSME, 1), KOSME),
  },
  {
    id: '6.2.5',
    title: '4-byte code point U+1D11E split 2+2 across fragments → echoed',
    run: (ctx) => expectTextEcho(ctx, fragment(Op.Text, '𝄞', 2), '𝄞'),
  },
  {
    id: '6.2.6',
    title: 'valid multi-byte text, one frame written 1 byte at a time → echoed',
    run: (ctx) => echoThenClose(ctx, Op.Text, MIXED, { chunkSize: 1 }),
  },
  {
    id: '6.3.1',
    title: 'invalid text "κόσμε<ED A0 80>edited" in one frame → 1007',
    run: async (ctx) => {
      await ctx.peer.sendText(KOSME_EDITED_INVALID);
      await expectFailure(ctx, 1007);
    },
  },
  {
    id: '6.3.2',
    title: 'invalid text "κόσμε<ED A0 80>edited" in 1-byte fragments (all sent) → 1007',
    run: async (ctx) => {
      await ctx.peer.send(fragment(Op.Text, KOSME_EDITED_INVALID, 1));
      await expectFailure(ctx, 1007);
    },
  },
  {
    id: '6.4.1',
    title: 'fail-fast: fragments "κόσμε", <F4 90 80 80> (fin=0) → 1007 before the 3rd fragment is sent',
    skip: NOT_FAIL_FAST,
    run: async (ctx) => {
      await ctx.peer.send([
        { opcode: Op.Text, fin: false, payload: KOSME },
        { opcode: Op.Continuation, fin: false, payload: Buffer.from('f4908080', 'hex') },
      ]);
      await expectFailure(ctx, 1007);
    },
  },
  {
    id: '6.4.2',
    title: 'fail-fast: first fragment "κόσμε<F4 90 80 80>" (fin=0) → 1007 before the rest is sent',
    skip: NOT_FAIL_FAST,
    run: async (ctx) => {
      await ctx.peer.send({
        opcode: Op.Text,
        fin: false,
        payload: Buffer.concat([KOSME, Buffer.from('f4908080', 'hex')]),
      });
      await expectFailure(ctx, 1007);
    },
  },
  {
    id: '6.4.3',
    title: 'fail-fast: one frame, payload written up to <F4 90 80 80> → 1007 before the rest is written',
    skip: NOT_FAIL_FAST,
    run: (ctx) => failFastWithinFrame(ctx, [KOSME, Buffer.from('f4908080', 'hex'), Buffer.from('edited')], 2),
  },
  {
    id: '6.4.4',
    title:
      'fail-fast: one frame, payload written up to <F4 90> (mid-sequence) → 1007 before the rest is written',
    skip: NOT_FAIL_FAST,
    run: (ctx) =>
      failFastWithinFrame(
        ctx,
        [KOSME, Buffer.from('f490', 'hex'), Buffer.from('8080', 'hex'), Buffer.from('edited')],
        2,
      ),
  },
  {
    id: '6.4.5',
    title:
      'fail-fast: one frame, payload written up to <ED A0> (surrogate) → 1007 before the rest is written',
    skip: NOT_FAIL_FAST,
    run: (ctx) =>
      failFastWithinFrame(ctx, [Buffer.from('abc'), Buffer.from('eda0', 'hex'), Buffer.from('80', 'hex')], 2),
  },
  {
    id: '6.4.6',
    title: 'fail-fast: first fragment is the single byte <FF> (fin=0) → 1007',
    skip: NOT_FAIL_FAST,
    run: (ctx) => failFastFragments(ctx, Buffer.from('ff', 'hex'), 1),
  },
];

const vectorCases: ConformanceCase[] = [];
const fragmentedValid: ConformanceCase[] = [];
for (const [c, cat] of UTF8_CATEGORIES.entries()) {
  const sub = `6.${c + 5}`;
  for (const [j, v] of cat.vectors.entries()) {
    const id = `${sub}.${j + 1}`;
    if (expectedValid(cat, v)) {
      vectorCases.push({
        id,
        title: `${cat.title}: ${show(v)} in one frame → echoed`,
        run: (ctx) => echoThenClose(ctx, Op.Text, v),
      });
      continue;
    }
    vectorCases.push({
      id,
      title: `${cat.title}: ${show(v)} in one frame → 1007`,
      run: async (ctx) => {
        await ctx.peer.sendText(v);
        await expectFailure(ctx, 1007);
      },
    });
    const { failAt } = checkUtf8(v);
    if (failAt !== null) {
      vectorCases.push({
        id: `${id}.ff`,
        title: `fail-fast: ${show(v)} in 1-byte fragments up to byte ${failAt} (message unfinished) → 1007`,
        skip: NOT_FAIL_FAST,
        run: (ctx) => failFastFragments(ctx, v, failAt + 1),
      });
    }
  }
  if (cat.valid) {
    fragmentedValid.push({
      id: `6.25.${fragmentedValid.length + 1}`,
      title: `${cat.title}: each of the ${cat.vectors.length} vectors in 1-byte fragments → echoed`,
      run: async (ctx) => {
        for (const v of cat.vectors) {
          await ctx.peer.send(fragment(Op.Text, v, 1));
          await ctx.peer.expectText(v);
        }
        await closeCleanly(ctx);
      },
    });
  }
}

export const utf8: CaseGroup = {
  id: '6',
  title: 'UTF-8 handling',
  cases: [...basics, ...vectorCases, ...fragmentedValid],
};
