// Test helpers for the protocol core: a handler that records events, a raw frame builder that can
// break every rule, and a naive frame decoder to read what a Protocol queued. The builder and the
// decoder are written from RFC 6455 §5.2 independently of src/protocol, so that they check it.
import assert from 'node:assert/strict';
import {
  Protocol,
  type ProtocolHandler,
  type ProtocolOptions,
  type WebSocketError,
} from '../../src/protocol/index.js';

export type Event =
  | ['message', Buffer, boolean, boolean]
  | ['ping', Buffer]
  | ['pong', Buffer]
  | ['close', number, Buffer]
  | ['error', string, number | undefined];

export interface Recorder {
  events: Event[];
  errors: WebSocketError[];
  handler: ProtocolHandler;
}

/** A ProtocolHandler that records every event, copying the payloads. */
export function recorder(): Recorder {
  const events: Event[] = [];
  const errors: WebSocketError[] = [];
  const handler: ProtocolHandler = {
    onMessage: (data, isBinary, compressed) =>
      events.push(['message', Buffer.from(data), isBinary, compressed]),
    onPing: (data) => events.push(['ping', Buffer.from(data)]),
    onPong: (data) => events.push(['pong', Buffer.from(data)]),
    onCloseFrame: (code, reason) => events.push(['close', code, Buffer.from(reason)]),
    onProtocolError: (err) => {
      errors.push(err);
      events.push(['error', err.code, err.closeCode]);
    },
  };
  return { events, errors, handler };
}

/** A Protocol with a recorder. */
export function open(options: ProtocolOptions): Recorder & { p: Protocol } {
  const r = recorder();
  return { ...r, p: new Protocol(r.handler, options) };
}

export const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export interface RawFrame {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A masking key (client-to-server frames); none for an unmasked frame. */
  mask?: Uint8Array;
  /** Force the length encoding: 7-bit, 16-bit (126) or 64-bit (127). Default: minimal. */
  encoding?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's. */
  declaredLength?: number | bigint;
}

/** Builds a frame byte by byte, rules broken on request. */
export function rawFrame(f: RawFrame): Buffer {
  const payload = typeof f.payload === 'string' ? Buffer.from(f.payload) : Buffer.from(f.payload ?? []);
  const length = f.declaredLength ?? payload.length;
  const n = BigInt(length);
  const encoding = f.encoding ?? (n < 126n ? 7 : n < 0x10000n ? 16 : 64);
  const b0 =
    ((f.fin ?? true) ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | (f.rsv2 ? 0x20 : 0) | (f.rsv3 ? 0x10 : 0) | f.opcode;
  const maskBit = f.mask ? 0x80 : 0;
  const head: number[] = [b0];
  if (encoding === 7) {
    head.push(maskBit | Number(n));
  } else if (encoding === 16) {
    head.push(maskBit | 126, Number(n >> 8n) & 0xff, Number(n) & 0xff);
  } else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((n >> shift) & 0xffn));
  }
  const body = Buffer.from(payload);
  if (f.mask) {
    head.push(...f.mask);
    for (let i = 0; i < body.length; i++) body[i] ^= f.mask[i % 4];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/** A masked frame, as a client sends it. */
export function clientFrame(f: Omit<RawFrame, 'mask'>): Buffer {
  return rawFrame({ ...f, mask: KEY });
}

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decodes whole frames (masked or not); fails when the bytes end inside a frame. */
export function decodeFrames(input: Buffer | Buffer[] | null): DecodedFrame[] {
  const bytes = input === null ? Buffer.alloc(0) : Array.isArray(input) ? Buffer.concat(input) : input;
  const frames: DecodedFrame[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    assert.ok(bytes.length - pos >= 2, 'truncated frame header');
    const b0 = bytes[pos];
    const b1 = bytes[pos + 1];
    pos += 2;
    let length = b1 & 0x7f;
    if (length === 126) {
      length = bytes.readUInt16BE(pos);
      pos += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(pos));
      pos += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      key = bytes.subarray(pos, pos + 4);
      pos += 4;
    }
    assert.ok(bytes.length - pos >= length, 'truncated frame payload');
    const payload = Buffer.from(bytes.subarray(pos, pos + length));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4];
    pos += length;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
  }
  return frames;
}

/** The code of a Close frame payload, or 1005 for an empty one. */
export function closeCodeOf(frame: DecodedFrame): number {
  assert.equal(frame.opcode, 0x8, 'expected a Close frame');
  return frame.payload.length === 0 ? 1005 : frame.payload.readUInt16BE(0);
}

export interface Failure {
  role: 'server' | 'client';
  /** Expected WebSocketError code. */
  code: string;
  /** Expected close code. */
  closeCode: number;
  options?: Omit<ProtocolOptions, 'role'>;
}

/**
 * Feeds `chunks` to a fresh Protocol and checks that the connection failed exactly once, with `code`
 * and `closeCode` reported through onProtocolError, and a Close frame carrying `closeCode` queued as
 * the last frame of the output. Then checks that further input is ignored.
 */
export function expectFailure(chunks: Buffer | Buffer[], failure: Failure) {
  const r = open({ role: failure.role, ...failure.options });
  for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) r.p.receive(chunk);
  const errors = r.events.filter((e) => e[0] === 'error');
  assert.deepEqual(errors, [['error', failure.code, failure.closeCode]]);
  assert.equal(r.p.error?.code, failure.code);
  const frames = decodeFrames(r.p.takeOutput());
  const closes = frames.filter((f) => f.opcode === 0x8);
  assert.equal(closes.length, 1, 'exactly one Close frame queued');
  assert.equal(frames[frames.length - 1].opcode, 0x8, 'the Close frame is the last one queued');
  assert.equal(closeCodeOf(closes[0]), failure.closeCode);
  assert.equal(closes[0].masked, failure.role === 'client');
  assert.ok(r.p.closeSent);
  // Input after the failure is ignored.
  const before = r.events.length;
  const hello = { opcode: 0x1, payload: 'ignored' };
  r.p.receive(failure.role === 'server' ? clientFrame(hello) : rawFrame(hello));
  assert.equal(r.events.length, before, 'input after a protocol error is ignored');
  assert.equal(r.p.takeOutput(), null);
  return r;
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, within range). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    if (c > prev) parts.push(bytes.subarray(prev, c));
    prev = Math.max(prev, c);
  }
  if (prev < bytes.length) parts.push(bytes.subarray(prev));
  return parts;
}

/** Every byte as its own chunk. */
export function bytewise(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(bytes.subarray(i, i + 1));
  return parts;
}
