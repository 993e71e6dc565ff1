// Random WebSocket frame streams for the fuzz targets: valid ones (messages in fragments, control
// frames between the fragments, every length encoding, an optional Close), and the mutations that
// break them (flipped bits, truncated, duplicated, reordered or dropped frames, reserved bits and
// opcodes, random 16/64-bit lengths, fragmented control frames, invalid UTF-8, bad Close payloads).
import type { Rng } from './prng.js';

export interface GenFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
  mask: Buffer | null;
  /** Length encoding: minimal, or forced to 7, 16 or 64 bits. */
  encoding: 0 | 7 | 16 | 64;
  /** A length written in the header instead of the payload's. */
  declared: bigint | null;
}

export interface StreamOptions {
  /** Frames are masked (client to server). */
  masked: boolean;
  /** RSV1 may start a message (permessage-deflate). */
  allowRsv1: boolean;
  /** Compresses the payload of a message sent with RSV1 (null: the payload is sent as it is). */
  compress: ((payload: Buffer) => Buffer) | null;
  /** The receiver's maxPayload, to aim some lengths around it (0: none). */
  maxPayload: number;
  /** Largest message generated. */
  maxMessage: number;
}

/** Random text: ASCII mostly, with 2-, 3- and 4-byte sequences. */
export function randomText(rng: Rng, bytes: number): Buffer {
  let s = '';
  let n = 0;
  const kinds = rng.int(4);
  while (n < bytes) {
    const r = rng.int(10);
    let c: number;
    if (kinds === 0 || r < 6) c = rng.range(0x20, 0x7e);
    else if (r < 8) c = rng.range(0x80, 0x7ff);
    else if (r < 9) c = rng.pick([rng.range(0x800, 0xd7ff), rng.range(0xe000, 0xffff)]);
    else c = rng.range(0x10000, 0x10ffff);
    const ch = String.fromCodePoint(c);
    s += ch;
    n += Buffer.byteLength(ch);
  }
  return Buffer.from(s);
}

function messageSize(rng: Rng, options: StreamOptions): number {
  const r = rng.float();
  if (options.maxPayload > 0 && r < 0.05) {
    return Math.min(options.maxMessage, Math.max(0, options.maxPayload + rng.range(-3, 3)));
  }
  if (r < 0.75) return rng.size(125);
  if (r < 0.95) return rng.range(126, Math.min(options.maxMessage, 4096));
  return rng.range(Math.min(options.maxMessage, 65530), options.maxMessage);
}

function frame(
  rng: Rng,
  options: StreamOptions,
  opcode: number,
  payload: Buffer,
  fin: boolean,
  rsv = 0,
): GenFrame {
  const r = rng.int(20);
  const encoding = r === 0 ? 16 : r === 1 ? 64 : 0;
  return { fin, rsv, opcode, payload, mask: options.masked ? rng.bytes(4) : null, encoding, declared: null };
}

function controlFrame(rng: Rng, options: StreamOptions): GenFrame {
  const payload = rng.chance(0.5) ? randomText(rng, rng.size(40)) : rng.bytes(rng.size(125));
  return frame(rng, options, rng.chance(0.7) ? 9 : 10, payload.subarray(0, 125), true);
}

/** A valid close frame: no payload, or a code the peer may send and a UTF-8 reason. */
function closeFrame(rng: Rng, options: StreamOptions): GenFrame {
  if (rng.chance(0.2)) return frame(rng, options, 8, Buffer.alloc(0), true);
  const code = rng.pick([
    1000,
    1001,
    1002,
    1003,
    1007,
    1008,
    1009,
    1010,
    1011,
    1012,
    1013,
    1014,
    rng.range(3000, 4999),
  ]);
  // At most 63 bytes (randomText overshoots by at most 3): whole characters within the 123 that fit.
  const reason = randomText(rng, rng.size(60));
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return frame(rng, options, 8, Buffer.concat([payload, reason]), true);
}

/** A valid stream: messages (some fragmented, control frames between fragments), maybe a Close. */
export function validStream(rng: Rng, options: StreamOptions): GenFrame[] {
  const frames: GenFrame[] = [];
  const messages = rng.int(7);
  for (let m = 0; m < messages; m++) {
    if (rng.chance(0.2)) frames.push(controlFrame(rng, options));
    const binary = rng.chance(0.5);
    const size = messageSize(rng, options);
    let data = binary ? rng.bytes(size) : randomText(rng, size);
    const compressed = options.allowRsv1 && rng.chance(0.5);
    if (compressed && options.compress !== null) data = options.compress(data);
    const parts = rng.chance(0.6) ? 1 : rng.range(2, 5);
    const cuts = Array.from({ length: parts - 1 }, () => rng.int(data.length + 1)).sort((a, b) => a - b);
    let start = 0;
    for (let i = 0; i < parts; i++) {
      const end = i === parts - 1 ? data.length : cuts[i];
      const first = i === 0;
      frames.push(
        frame(
          rng,
          options,
          first ? (binary ? 2 : 1) : 0,
          data.subarray(start, end),
          i === parts - 1,
          first && compressed ? 4 : 0,
        ),
      );
      start = end;
      if (i < parts - 1 && rng.chance(0.3)) frames.push(controlFrame(rng, options));
    }
  }
  if (rng.chance(0.6)) frames.push(closeFrame(rng, options));
  // Bytes after the Close, which the receiver ignores.
  if (rng.chance(0.1)) frames.push(frame(rng, options, 1, Buffer.from('after close'), true));
  return frames;
}

/** A frame's bytes. */
export function serializeFrames(frames: readonly GenFrame[]): Buffer {
  const out: Buffer[] = [];
  for (const f of frames) {
    const length = f.declared ?? BigInt(f.payload.length);
    const encoding = f.encoding !== 0 ? f.encoding : length < 126n ? 7 : length < 0x10000n ? 16 : 64;
    const head = Buffer.alloc(14);
    head[0] = (f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f);
    const maskBit = f.mask !== null ? 0x80 : 0;
    let n = 2;
    if (encoding === 7) head[1] = maskBit | Number(length & 0x7fn);
    else if (encoding === 16) {
      head[1] = maskBit | 126;
      head.writeUInt16BE(Number(length & 0xffffn), 2);
      n = 4;
    } else {
      head[1] = maskBit | 127;
      head.writeBigUInt64BE(length & 0xffffffffffffffffn, 2);
      n = 10;
    }
    const body = Buffer.from(f.payload);
    if (f.mask !== null) {
      f.mask.copy(head, n);
      n += 4;
      for (let i = 0; i < body.length; i++) body[i] ^= f.mask[i & 3];
    }
    out.push(head.subarray(0, n), body);
  }
  return Buffer.concat(out);
}

const BAD_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5],
  [0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f],
  [0xe0, 0x9f, 0x80],
];

function insertAt(buf: Buffer, at: number, bytes: ArrayLike<number>): Buffer {
  return Buffer.concat([buf.subarray(0, at), Buffer.from(bytes as number[]), buf.subarray(at)]);
}

/** Breaks the stream at frame level, 1 to 3 times. Returns the names of the mutations applied. */
export function mutateFrames(rng: Rng, frames: GenFrame[], options: StreamOptions): string[] {
  const applied: string[] = [];
  const count = rng.range(1, 3);
  for (let k = 0; k < count; k++) {
    if (frames.length === 0) frames.push(controlFrame(rng, options));
    const i = rng.int(frames.length);
    const f = frames[i];
    const op = rng.int(14);
    switch (op) {
      case 0:
        frames.splice(i, 0, { ...f });
        applied.push(`duplicate ${i}`);
        break;
      case 1: {
        const j = rng.int(frames.length);
        frames[i] = frames[j];
        frames[j] = f;
        applied.push(`swap ${i} ${j}`);
        break;
      }
      case 2:
        frames.splice(i, 1);
        applied.push(`drop ${i}`);
        break;
      case 3:
        f.payload = f.payload.subarray(0, rng.int(f.payload.length + 1));
        f.declared = f.declared ?? BigInt(frames[i].payload.length + rng.range(1, 10));
        applied.push(`truncate payload of ${i}`);
        break;
      case 4: {
        // A control frame in fragments: FIN clear, maybe followed by a continuation.
        const c = controlFrame(rng, options);
        c.fin = false;
        frames.splice(i, 0, c);
        if (rng.chance(0.5)) frames.splice(i + 1, 0, { ...c, opcode: 0, fin: true });
        applied.push(`fragmented control at ${i}`);
        break;
      }
      case 5:
        f.opcode = rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf, 0, 1, 2, 8, 9, 10]);
        applied.push(`opcode ${f.opcode} at ${i}`);
        break;
      case 6:
        f.rsv = rng.range(1, 7);
        applied.push(`rsv ${f.rsv} at ${i}`);
        break;
      case 7:
        f.mask = f.mask === null ? rng.bytes(4) : null;
        applied.push(`toggle mask at ${i}`);
        break;
      case 8: {
        const r = rng.int(6);
        if (r === 0) f.declared = BigInt(rng.range(0, 0xffff));
        else if (r === 1) f.declared = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
        else if (r === 2) f.declared = (1n << 63n) + BigInt(rng.u32());
        else if (r === 3) f.declared = (1n << 53n) + BigInt(rng.range(-2, 2));
        else if (r === 4) f.declared = BigInt(Math.max(0, options.maxPayload + rng.range(-2, 2)));
        else f.declared = BigInt(rng.range(120, 130));
        f.encoding = f.declared < 0x10000n && rng.chance(0.5) ? 16 : 64;
        applied.push(`length ${f.declared} at ${i}`);
        break;
      }
      case 9: {
        const bad = rng.pick(BAD_UTF8);
        f.payload = insertAt(f.payload, rng.int(f.payload.length + 1), bad);
        if (f.opcode !== 1 && f.opcode !== 0 && f.opcode !== 8) f.opcode = 1;
        applied.push(`bad utf-8 at ${i}`);
        break;
      }
      case 10: {
        const r = rng.int(4);
        const payload =
          r === 0
            ? rng.bytes(1)
            : r === 1
              ? Buffer.from([rng.int(256), rng.int(256)])
              : r === 2
                ? Buffer.from([0x03, 0xe8, ...rng.pick(BAD_UTF8)])
                : Buffer.from([rng.pick([0x03, 0x0b, 0x0f, 0x13]), rng.int(256)]);
        frames.splice(i, 0, { ...controlFrame(rng, options), opcode: 8, payload });
        applied.push(`bad close at ${i}`);
        break;
      }
      case 11: {
        const c = controlFrame(rng, options);
        c.payload = rng.bytes(rng.range(126, 300));
        frames.splice(i, 0, c);
        applied.push(`long control at ${i}`);
        break;
      }
      case 12:
        f.fin = !f.fin;
        applied.push(`toggle fin at ${i}`);
        break;
      default:
        f.encoding = rng.pick([7, 16, 64] as const);
        if (f.encoding === 7 && f.payload.length > 125) f.encoding = 64;
        applied.push(`encoding ${f.encoding} at ${i}`);
    }
  }
  return applied;
}

/** Breaks the bytes: flipped bits, overwritten, inserted or deleted bytes (1 to 3 times). */
export function mutateBytes(rng: Rng, input: Buffer): { bytes: Buffer; applied: string[] } {
  let bytes: Buffer = Buffer.from(input);
  const applied: string[] = [];
  const count = rng.range(1, 3);
  for (let k = 0; k < count; k++) {
    const at = rng.int(bytes.length + 1);
    const op = rng.int(4);
    if (op === 0 && bytes.length > 0) {
      const i = Math.min(at, bytes.length - 1);
      const bit = rng.int(8);
      bytes[i] ^= 1 << bit;
      applied.push(`flip bit ${bit} of byte ${i}`);
    } else if (op === 1 && bytes.length > 0) {
      const i = Math.min(at, bytes.length - 1);
      bytes[i] = rng.int(256);
      applied.push(`set byte ${i}`);
    } else if (op === 2) {
      bytes = insertAt(bytes, at, rng.bytes(rng.range(1, 8)));
      applied.push(`insert at ${at}`);
    } else {
      const n = rng.range(1, 8);
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + n)]);
      applied.push(`delete ${n} at ${at}`);
    }
  }
  return { bytes, applied };
}

/** Cuts `bytes` into random chunks: byte by byte, small, large or mixed. */
export function randomChunks(rng: Rng, bytes: Buffer): Buffer[] {
  // Byte by byte only for inputs up to 8 KiB: beyond, it costs much and finds nothing more.
  const style = rng.int(4) || (bytes.length > 8192 ? 1 : 0);
  const chunks: Buffer[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const n =
      style === 0
        ? 1
        : style === 1
          ? rng.range(1, 16)
          : style === 2
            ? rng.range(1, 4096)
            : rng.chance(0.5)
              ? rng.range(1, 3)
              : rng.range(1, 70000);
    // A copy: the core unmasks in place and keeps views of what it is given.
    chunks.push(Buffer.from(bytes.subarray(pos, pos + n)));
    pos += n;
  }
  if (rng.chance(0.1)) chunks.splice(rng.int(chunks.length + 1), 0, Buffer.alloc(0));
  return chunks;
}
