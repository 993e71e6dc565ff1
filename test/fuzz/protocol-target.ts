// Fuzz target: the sans-I/O Protocol, both roles. A valid frame stream is generated and usually
// mutated; then it is fed (1) in one chunk, (2) in random chunks with pause()/resume() at random
// points (from outside and from inside the handlers), (3) cut at a random point and ended with
// receiveEof(). Oracles: receive() never throws; the events equal those of the independent model in
// reference-receiver.ts (so: violations fail with the right error and close code), in every chunking;
// no event while paused; the frames queued in answer (Pongs, the Close) are the model's; messages
// handed on are not overwritten by later input; nothing happens after the Close, a failure or EOF.
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_PAYLOAD, Protocol, WebSocketError } from '../../src/protocol/index.js';
import { documentedCodes } from './documented-codes.js';
import {
  type GenFrame,
  mutateBytes,
  mutateFrames,
  randomChunks,
  type StreamOptions,
  serializeFrames,
  validStream,
} from './frame-streams.js';
import type { Rng } from './prng.js';
import {
  type AnswerFrame,
  diffEvents,
  type FuzzEvent,
  type ReferenceOptions,
  referenceReceive,
} from './reference-receiver.js';
import { elapsedNs, FuzzFailure, type FuzzTarget, type IterationResult } from './runner.js';

export interface ProtocolCase {
  options: ReferenceOptions;
  bytes: Buffer;
  mutations: string[];
}

/** Draws one input: the receiver's options and the bytes it is fed. */
export function protocolCase(rng: Rng): ProtocolCase {
  const role = rng.chance(0.5) ? 'server' : 'client';
  const maxPayload = rng.pick([0, DEFAULT_MAX_PAYLOAD, 65536, rng.range(0, 300), rng.range(0, 5000)]);
  const options: ReferenceOptions = {
    role,
    maxPayload,
    allowRsv1: rng.chance(0.3),
    autoPong: rng.chance(0.8),
    deferClose: rng.chance(0.1),
  };
  const stream: StreamOptions = {
    masked: role === 'server',
    allowRsv1: options.allowRsv1,
    compress: null,
    maxPayload,
    maxMessage: 70_000,
  };
  const frames: GenFrame[] = validStream(rng, stream);
  const mutations: string[] = [];
  if (rng.chance(0.7)) mutations.push(...mutateFrames(rng, frames, stream));
  let bytes = serializeFrames(frames);
  if (rng.chance(0.25)) {
    const m = mutateBytes(rng, bytes);
    bytes = m.bytes;
    mutations.push(...m.applied);
  }
  return { options, bytes, mutations };
}

interface Delivery {
  events: FuzzEvent[];
  /** The buffers handed to the handler, uncopied, with the copy made when they were handed on. */
  views: Array<[Buffer, Buffer]>;
  output: Buffer[] | null;
  protocol: Protocol;
}

type Hook = (p: Protocol) => void;

const DOCUMENTED = documentedCodes();

function deliver(c: ProtocolCase, chunks: Buffer[], hook: Hook | null, between: Hook | null): Delivery {
  const events: FuzzEvent[] = [];
  const views: Array<[Buffer, Buffer]> = [];
  let protocol: Protocol | null = null;
  const keep = (b: Buffer): Buffer => {
    if (protocol?.isPaused) throw new FuzzFailure('an event was reported while paused');
    const copy = Buffer.from(b);
    views.push([b, copy]);
    return copy;
  };
  // Set once the chunks are fed: the hooks stop pausing, so that resume() delivers the rest.
  let draining = false;
  const after = () => {
    if (hook !== null && protocol !== null && !draining) hook(protocol);
  };
  const p = new Protocol(
    {
      onMessage: (data, binary, compressed) => {
        events.push({ kind: 'message', data: keep(data), binary, compressed });
        after();
      },
      onPing: (data) => {
        events.push({ kind: 'ping', data: keep(data) });
        after();
      },
      onPong: (data) => {
        events.push({ kind: 'pong', data: keep(data) });
        after();
      },
      onCloseFrame: (code, reason) => {
        events.push({ kind: 'close', code, reason: keep(reason) });
        after();
      },
      onProtocolError: (err) => {
        if (!(err instanceof WebSocketError)) throw new FuzzFailure(`onProtocolError with a ${String(err)}`);
        if (!DOCUMENTED.has(err.code)) throw new FuzzFailure(`${err.code} is not in docs/errors.md`);
        events.push({ kind: 'error', code: err.code, closeCode: err.closeCode });
        after();
      },
      deferClose: () => c.options.deferClose,
    },
    {
      role: c.options.role,
      maxPayload: c.options.maxPayload,
      allowRsv1: c.options.allowRsv1,
      autoPong: c.options.autoPong,
    },
  );
  protocol = p;
  for (const chunk of chunks) {
    try {
      p.receive(chunk);
    } catch (err) {
      if (err instanceof FuzzFailure) throw err;
      throw new FuzzFailure(
        `receive() threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        err instanceof Error ? (err.stack ?? '') : '',
      );
    }
    between?.(p);
  }
  draining = true;
  if (p.isPaused) p.resume();
  if (p.isPaused) throw new FuzzFailure('still paused after resume()');
  return { events, views, output: p.takeOutput(), protocol: p };
}

/** Decodes the queued output; checks framing and masking for the role. */
function decodeOutput(output: Buffer[] | null, role: 'server' | 'client'): AnswerFrame[] {
  const bytes = output === null ? Buffer.alloc(0) : Buffer.concat(output);
  const frames: AnswerFrame[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 2) throw new FuzzFailure('output ends inside a frame header');
    const b0 = bytes[pos];
    const b1 = bytes[pos + 1];
    if ((b0 & 0xf0) !== 0x80) throw new FuzzFailure(`output frame with first byte 0x${b0.toString(16)}`);
    const masked = (b1 & 0x80) !== 0;
    if (masked !== (role === 'client'))
      throw new FuzzFailure(`output frame ${masked ? 'masked' : 'unmasked'} from a ${role}`);
    const length = b1 & 0x7f;
    if (length > 125) throw new FuzzFailure('output control frame over 125 bytes');
    pos += 2;
    const key = masked ? bytes.subarray(pos, pos + 4) : null;
    pos += masked ? 4 : 0;
    if (bytes.length - pos < length) throw new FuzzFailure('output ends inside a frame');
    const payload = Buffer.from(bytes.subarray(pos, pos + length));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    frames.push({ opcode: b0 & 0x0f, payload });
    pos += length;
  }
  return frames;
}

function describeAnswers(frames: AnswerFrame[]): string {
  return frames.map((f) => `${f.opcode}:${f.payload.toString('hex').slice(0, 40)}`).join(' ') || '(none)';
}

function checkDelivery(
  d: Delivery,
  expected: { events: FuzzEvent[]; answers: AnswerFrame[] },
  c: ProtocolCase,
  what: string,
) {
  const diff = diffEvents(d.events, expected.events);
  if (diff !== null) throw new FuzzFailure(`${what}: ${diff}`);
  const answers = decodeOutput(d.output, c.options.role);
  const same =
    answers.length === expected.answers.length &&
    answers.every(
      (a, i) => a.opcode === expected.answers[i].opcode && a.payload.equals(expected.answers[i].payload),
    );
  if (!same)
    throw new FuzzFailure(
      `${what}: queued ${describeAnswers(answers)}, expected ${describeAnswers(expected.answers)}`,
    );
  for (const [view, copy] of d.views) {
    if (!view.equals(copy))
      throw new FuzzFailure(`${what}: a payload handed on was overwritten by later input`);
  }
  const last = d.events[d.events.length - 1];
  if (last?.kind === 'error' && d.protocol.error?.code !== last.code) {
    throw new FuzzFailure(
      `${what}: protocol.error is ${d.protocol.error?.code}, the event said ${last.code}`,
    );
  }
  if ((last?.kind === 'error' || last?.kind === 'close') && d.protocol.state === 1) {
    throw new FuzzFailure(`${what}: still OPEN after ${last.kind}`);
  }
}

export function describeCase(c: ProtocolCase): string {
  const hex =
    c.bytes.length > 512
      ? `${c.bytes.subarray(0, 512).toString('hex')}... (${c.bytes.length} bytes)`
      : c.bytes.toString('hex');
  return `options ${JSON.stringify(c.options)}\nmutations: ${c.mutations.join(', ') || 'none'}\ninput: ${hex}`;
}

/** Runs one case through the three deliveries; throws FuzzFailure. Returns the one-chunk time. */
export function runProtocolCase(c: ProtocolCase, rng: Rng): IterationResult {
  try {
    const expected = referenceReceive(c.bytes, c.options);
    const start = performance.now();
    const whole = deliver(c, [Buffer.from(c.bytes)], null, null);
    const ns = elapsedNs(start);
    checkDelivery(whole, expected, c, 'one chunk');

    // Random chunks, paused and resumed from the handlers and between chunks.
    const pauseP = rng.float() * 0.5;
    const hook: Hook = (p) => {
      if (rng.chance(pauseP)) {
        p.pause();
        if (rng.chance(0.3)) p.resume();
      }
    };
    const between: Hook = (p) => {
      if (p.isPaused && rng.chance(0.5)) p.resume();
      else if (rng.chance(pauseP / 2)) p.pause();
    };
    const chunked = deliver(c, randomChunks(rng, c.bytes), hook, between);
    const chunkDiff = diffEvents(chunked.events, whole.events);
    if (chunkDiff !== null) throw new FuzzFailure(`random chunks differ from one chunk: ${chunkDiff}`);
    checkDelivery(chunked, expected, c, 'random chunks');

    // Cut short: the events of the prefix, then nothing after receiveEof().
    const cut = rng.int(c.bytes.length + 1);
    const prefix = c.bytes.subarray(0, cut);
    const short = referenceReceive(prefix, c.options);
    const ended = deliver(c, randomChunks(rng, prefix), null, null);
    checkDelivery(ended, short, c, `cut at ${cut}`);
    const p = ended.protocol;
    const clean = p.receiveEof();
    if (clean !== (p.closeReceived && p.closeSent) || p.state !== 3) {
      throw new FuzzFailure(`receiveEof(): returned ${clean}, state ${p.state}`);
    }
    const before = ended.events.length;
    p.receive(Buffer.from(c.bytes.subarray(cut)));
    if (ended.events.length !== before) throw new FuzzFailure('events after receiveEof()');
    const last = whole.events[whole.events.length - 1];
    const kind = last === undefined ? 'no event' : last.kind === 'error' ? last.code : last.kind;
    return { bytes: c.bytes.length, ns, kind };
  } catch (err) {
    if (err instanceof FuzzFailure) throw new FuzzFailure(err.message, `${describeCase(c)}\n${err.details}`);
    throw err;
  }
}

/**
 * Thousands of tiny frames, each its own chunk, received while paused and handed on when resumed,
 * the handler pausing again every few messages: the time of this delivery, per byte, must not grow
 * with the number of chunks held.
 */
export function runFloodCase(rng: Rng): IterationResult {
  const role = rng.chance(0.5) ? 'server' : 'client';
  // Spread evenly over the size buckets of the linear-time check (log-uniform).
  const count = Math.round(200 * 400 ** rng.float());
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const payload = rng.bytes(rng.int(4));
    const opcode = rng.chance(0.8) ? 2 : 9;
    frames.push(
      serializeFrames([
        {
          fin: true,
          rsv: 0,
          opcode,
          payload,
          mask: role === 'server' ? rng.bytes(4) : null,
          encoding: 0,
          declared: null,
        },
      ]),
    );
  }
  const bytes = Buffer.concat(frames);
  const options: ReferenceOptions = {
    role,
    maxPayload: 0,
    allowRsv1: false,
    autoPong: true,
    deferClose: false,
  };
  const expected = referenceReceive(bytes, options);
  const every = rng.range(1, 50);
  const events: FuzzEvent[] = [];
  let seen = 0;
  const p: Protocol = new Protocol(
    {
      onMessage: (data, binary, compressed) => {
        events.push({ kind: 'message', data: Buffer.from(data), binary, compressed });
        if (++seen % every === 0) p.pause();
      },
      onPing: (data) => events.push({ kind: 'ping', data: Buffer.from(data) }),
      onPong: (data) => events.push({ kind: 'pong', data: Buffer.from(data) }),
      onCloseFrame: (code, reason) => events.push({ kind: 'close', code, reason: Buffer.from(reason) }),
      onProtocolError: (err) => events.push({ kind: 'error', code: err.code, closeCode: err.closeCode }),
    },
    { role, maxPayload: 0 },
  );
  const start = performance.now();
  p.pause();
  for (const frame of frames) p.receive(frame);
  while (p.isPaused) p.resume();
  const ns = elapsedNs(start);
  const diff = diffEvents(events, expected.events);
  if (diff !== null)
    throw new FuzzFailure(`flood of ${count} frames, paused every ${every} messages: ${diff}`);
  return { bytes: bytes.length, ns, kind: 'flood' };
}

export function protocolTarget(): FuzzTarget {
  return {
    name: 'protocol',
    timed: true,
    iterate: (rng) => (rng.chance(0.03) ? runFloodCase(rng) : runProtocolCase(protocolCase(rng), rng)),
  };
}
