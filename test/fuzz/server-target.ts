import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { childProcess, type Host, inProcess } from './echo-host.js';
import { CLOSE_TRIGGER, ECHO_MAX_PAYLOAD } from './echo-servers.js';
import { type GenFrame, mutateBytes, mutateFrames, serializeFrames, validStream } from './frame-streams.js';
import type { Rng } from './prng.js';
import { CLOSE_DEADLINE, session, socketChunks, statusOf, upgradeRequest } from './raw-client.js';
import {
  describeEvent,
  type FuzzEvent,
  isUtf8Model,
  referenceReceive,
  sameEvent,
} from './reference-receiver.js';
import { headCase } from './request-head-target.js';
import { elapsedNs, FuzzFailure, type FuzzTarget, type IterationResult } from './runner.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const STATUSES = new Set([101, 400, 401, 405, 408, 426, 431, 500, 503, 505]);
const RSS_LIMIT = 1024 * 1024 * 1024;

function compress(data: Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** permessage-deflate as the server applies it to what it receives (RFC 7692 §7.2.2). */
function inflateLimited(limit: number) {
  return (data: Buffer, binary: boolean): Buffer | FuzzEvent => {
    let out: Buffer;
    try {
      out = inflateRawSync(Buffer.concat([data, TAIL]), {
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: limit > 0 ? limit + 1 : undefined,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        return { kind: 'error', code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 };
      }
      return { kind: 'error', code: 'WS_ERR_DECOMPRESSION_FAILED', closeCode: 1007 };
    }
    if (limit > 0 && out.length > limit)
      return { kind: 'error', code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 };
    if (!binary && !isUtf8Model(out)) return { kind: 'error', code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 };
    return out;
  };
}

function filter(events: FuzzEvent[], kind: FuzzEvent['kind']): FuzzEvent[] {
  return events.filter((e) => e.kind === kind);
}

/** `actual` equals `expected`, or (when `prefix`) is a prefix of it. */
function compare(actual: FuzzEvent[], expected: FuzzEvent[], prefix: boolean, what: string): void {
  if (actual.length > expected.length || (!prefix && actual.length !== expected.length)) {
    throw new FuzzFailure(
      `${what}: ${actual.length} received, ${expected.length} expected${prefix ? ' at most' : ''}`,
    );
  }
  for (let i = 0; i < actual.length; i++) {
    if (!sameEvent(actual[i], expected[i])) {
      throw new FuzzFailure(
        `${what} ${i}: got ${describeEvent(actual[i])}, expected ${describeEvent(expected[i])}`,
      );
    }
  }
}

async function handshakeIteration(rng: Rng, port: number): Promise<{ bytes: number; kind: string }> {
  const c = headCase(rng);
  const chunks = socketChunks(rng, c.bytes, 100);
  const s = await session(port, chunks, rng, true);
  if (!s.closedInTime)
    throw new FuzzFailure('the server did not close the connection after a malformed handshake');
  if (s.head.length === 0) return { bytes: c.bytes.length, kind: 'handshake: closed without answer' };
  const status = statusOf(s.head);
  if (status === null || !STATUSES.has(status)) {
    throw new FuzzFailure(
      `handshake answered with ${JSON.stringify(s.head.slice(0, 80))}`,
      `request: ${JSON.stringify(c.bytes.toString('latin1').slice(0, 1500))}`,
    );
  }
  return { bytes: c.bytes.length, kind: `handshake: ${status}` };
}

async function framesIteration(
  rng: Rng,
  servers: { plain: number[]; deflate: number[] },
): Promise<{ bytes: number; kind: string }> {
  const deflateServer = rng.chance(0.5);
  const negotiated = deflateServer && rng.chance(0.8);
  const port = rng.pick(deflateServer ? servers.deflate : servers.plain);
  const key = randomBytes(16).toString('base64');
  const stream = {
    masked: true,
    allowRsv1: negotiated,
    compress: negotiated ? compress : null,
    maxPayload: ECHO_MAX_PAYLOAD,
    maxMessage: 70_000,
  };
  const frames: GenFrame[] = validStream(rng, stream);
  const mutations: string[] = [];
  if (rng.chance(0.6)) mutations.push(...mutateFrames(rng, frames, stream));
  if (rng.chance(0.15)) {
    // A message that makes the server close (4000) while the rest keeps coming.
    const at = rng.int(frames.length + 1);
    const compressed = negotiated && rng.chance(0.5);
    frames.splice(at, 0, {
      fin: true,
      rsv: compressed ? 4 : 0,
      opcode: 1,
      payload: compressed ? compress(CLOSE_TRIGGER) : CLOSE_TRIGGER,
      mask: rng.bytes(4),
      encoding: 0,
      declared: null,
    });
    mutations.push(`server close asked at ${at}`);
  }
  // End with a Close of our own, so that a valid stream ends with a closing handshake.
  frames.push({
    fin: true,
    rsv: 0,
    opcode: 8,
    payload: Buffer.from([0x03, 0xe8]),
    mask: rng.bytes(4),
    encoding: 0,
    declared: null,
  });
  let body = serializeFrames(frames);
  if (rng.chance(0.2)) {
    const m = mutateBytes(rng, body);
    body = m.bytes;
    mutations.push(...m.applied);
  }
  const expected = referenceReceive(body, {
    role: 'server',
    maxPayload: ECHO_MAX_PAYLOAD,
    allowRsv1: negotiated,
    autoPong: true,
    deferClose: false,
    inflate: inflateLimited(ECHO_MAX_PAYLOAD),
  });
  const request = Buffer.from(upgradeRequest(key, negotiated));
  const all = Buffer.concat([request, body]);
  const chunks = socketChunks(rng, all, 150);
  const describe = () =>
    `${deflateServer ? 'deflate' : 'plain'} server on port ${port} (${(deflateServer ? servers.deflate : servers.plain).indexOf(port) === 0 ? 'LeanSockets' : 'net.Sockets'}), deflate ${negotiated ? '' : 'not '}negotiated; mutations: ${mutations.join(', ') || 'none'}\nexpected: ${expected.events.map(describeEvent).join('; ')}${expected.truncated ? ' (truncated)' : ''}\nframes: ${body.toString('hex').slice(0, 3000)}`;
  try {
    // A stream that ends neither with a Close nor with a violation (cut inside a frame, or between
    // the frames of a message) leaves the server waiting for more: our side is then ended.
    const final = expected.events[expected.events.length - 1]?.kind;
    const trigger = expected.events.findIndex(
      (e) => e.kind === 'message' && !e.binary && e.data.equals(CLOSE_TRIGGER),
    );
    const open = final !== 'close' && final !== 'error' && trigger === -1;
    const s = await session(port, chunks, rng, open);
    if (!s.closedInTime) throw new FuzzFailure('the server did not close the connection');
    if (statusOf(s.head) !== 101)
      throw new FuzzFailure(`handshake answered with ${JSON.stringify(s.head.slice(0, 80))}`);
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    if (!s.head.includes(`\r\nSec-WebSocket-Accept: ${accept}`))
      throw new FuzzFailure('wrong or missing Sec-WebSocket-Accept');
    if (/\r\nSec-WebSocket-Extensions: permessage-deflate/i.test(s.head) !== negotiated) {
      throw new FuzzFailure(`permessage-deflate ${negotiated ? 'not ' : ''}accepted`);
    }
    // What the server sent, read as a client reads it.
    const got = referenceReceive(s.frames, {
      role: 'client',
      maxPayload: 0,
      allowRsv1: negotiated,
      autoPong: false,
      deferClose: false,
      inflate: inflateLimited(0),
    });
    const bad = got.events.find((e) => e.kind === 'error');
    if (bad !== undefined) throw new FuzzFailure(`the server sent an invalid stream: ${describeEvent(bad)}`);
    if (got.truncated) throw new FuzzFailure('the server closed the connection inside a frame');
    const close = got.events.find((e) => e.kind === 'close') as
      | Extract<FuzzEvent, { kind: 'close' }>
      | undefined;
    if (trigger !== -1) {
      // The server closed: every message before the trigger echoed first, every Ping before it
      // answered; its Close is 4000, or the code of a violation that came after.
      const before = expected.events.slice(0, trigger);
      const after = expected.events.slice(trigger + 1);
      compare(filter(got.events, 'message'), filter(before, 'message'), false, 'echo before close()');
      const pongs = filter(got.events, 'pong').map((e) => ({ ...e, kind: 'ping' }) as FuzzEvent);
      compare(pongs, filter(expected.events, 'ping'), true, 'pong');
      if (pongs.length < filter(before, 'ping').length)
        throw new FuzzFailure('a Ping before close() was not answered');
      const violation = after.find((e) => e.kind === 'error');
      const allowed = [4000, violation?.kind === 'error' ? violation.closeCode : 4000];
      if (close === undefined || !allowed.includes(close.code)) {
        throw new FuzzFailure(
          `close(4000) sent ${close === undefined ? 'no Close' : `a Close with ${close.code}`}`,
        );
      }
      return { bytes: all.length, kind: 'frames: server close' };
    }
    const last = expected.events[expected.events.length - 1];
    const clean = last?.kind === 'close';
    // Echoes of messages and Pongs of Pings: all of them after a closing handshake, a prefix otherwise.
    const echoes = filter(got.events, 'message');
    const pongs = filter(got.events, 'pong').map((e) => ({ ...e, kind: 'ping' }) as FuzzEvent);
    compare(echoes, filter(expected.events, 'message'), !clean, 'echo');
    compare(pongs, filter(expected.events, 'ping'), !clean, 'pong');
    if (last?.kind === 'error') {
      if (close === undefined) throw new FuzzFailure(`no Close after ${last.code}`);
      if (close.code !== last.closeCode)
        throw new FuzzFailure(`closed with ${close.code} after ${last.code}, expected ${last.closeCode}`);
    } else if (last?.kind === 'close') {
      if (close === undefined) throw new FuzzFailure('our Close was not answered');
      if (close.code !== last.code || !close.reason.equals(last.reason)) {
        throw new FuzzFailure(`our Close ${last.code} was answered with ${close.code}`);
      }
    } else if (close !== undefined && close.code !== 1000 && close.code !== 1001 && close.code !== 1005) {
      throw new FuzzFailure(`closed with ${close.code} though the stream broke no rule`);
    }
    const kind = open
      ? 'frames: truncated'
      : last?.kind === 'error'
        ? `frames: ${last.code}`
        : `frames: ${last?.kind}`;
    return { bytes: all.length, kind };
  } catch (err) {
    if (err instanceof FuzzFailure) throw new FuzzFailure(err.message, `${describe()}\n${err.details}`);
    throw err;
  }
}

export interface ServerTargetOptions {
  /** Run the servers in a child process (default false: in this process). */
  child?: boolean;
  seed?: number;
}

export function serverTarget(options: ServerTargetOptions = {}): FuzzTarget {
  let host: Host | null = null;
  const rss: number[] = [];
  let iterations = 0;
  const checkHost = async (final: boolean) => {
    const violations = host!.drain();
    if (violations.length > 0) throw new FuzzFailure(violations[0], violations.slice(1).join('\n'));
    const stats = await host!.stats();
    if (stats === null) throw new FuzzFailure('the server process is gone');
    rss.push(stats.rss);
    if (stats.rss > RSS_LIMIT) throw new FuzzFailure(`server RSS ${(stats.rss / 2 ** 20).toFixed(0)} MiB`);
    if (final && stats.connections > 0) {
      // Closed sockets leave the clients set within a close handshake's time.
      const deadline = performance.now() + CLOSE_DEADLINE;
      let left = stats.connections;
      while (left > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = (await host!.stats())?.connections ?? 0;
      }
      if (left > 0) throw new FuzzFailure(`${left} connections still open on the server after the run`);
    }
  };
  return {
    name: 'server',
    timed: false,
    async start() {
      host = options.child ? await childProcess(options.seed ?? 1) : await inProcess(options.seed ?? 1);
    },
    async stop() {
      try {
        await checkHost(true);
      } finally {
        await host?.stop();
      }
    },
    async iterate(rng: Rng): Promise<IterationResult> {
      const start = performance.now();
      const r = rng.chance(0.2)
        ? await handshakeIteration(rng, rng.pick([...host!.plain, ...host!.deflate]))
        : await framesIteration(rng, host!);
      const violations = host!.drain();
      if (violations.length > 0) throw new FuzzFailure(violations[0], violations.slice(1).join('\n'));
      if (++iterations % 100 === 0) await checkHost(false);
      return { bytes: r.bytes, ns: elapsedNs(start), kind: r.kind };
    },
    report() {
      if (rss.length === 0) return [];
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
      const warm = rss[Math.min(rss.length - 1, Math.floor(rss.length / 10))];
      return [
        `server RSS: first ${mib(rss[0])}, after warm-up ${mib(warm)}, peak ${mib(Math.max(...rss))}, last ${mib(rss[rss.length - 1])} (${rss.length} samples${options.child ? '' : ', in-process: the fuzzer included'})`,
      ];
    },
  };
}
