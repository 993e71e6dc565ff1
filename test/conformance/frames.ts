// Hand-built WebSocket frames (RFC 6455 §5.2) and a strict parser for the frames the implementation under
// test sends. Deliberately independent of src/: the conformance suite must not trust the code it checks.
import { randomBytes } from 'node:crypto';
import { isValidUtf8 } from './utf8.js';

export const Op = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** RSV bits as they sit in the first header byte, shifted down: RSV1 = 0b100, RSV2 = 0b010, RSV3 = 0b001. */
export const Rsv = { RSV1: 0b100, RSV2: 0b010, RSV3: 0b001 } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  /** 3-bit RSV value, see {@link Rsv}. Default 0. */
  rsv?: number;
  /** Default: whatever the sending role requires (clients mask, servers do not). */
  mask?: boolean;
  /** Payload length field encoding; 'minimal' (default) is what §5.2 requires of a sender. */
  lengthEncoding?: 'minimal' | 16 | 64;
}

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export function toBuffer(data: Buffer | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Serializes one frame; `defaultMask` is the sender's role default (true for a client). */
export function buildFrame(spec: FrameSpec, defaultMask: boolean): Buffer {
  const payload = toBuffer(spec.payload);
  const mask = spec.mask ?? defaultMask;
  const encoding = spec.lengthEncoding ?? 'minimal';
  const len = payload.length;
  let lenBytes: number;
  if (encoding === 64 || (encoding === 'minimal' && len > 0xffff)) lenBytes = 8;
  else if (encoding === 16 || (encoding === 'minimal' && len > 125)) lenBytes = 2;
  else lenBytes = 0;
  if (lenBytes === 2 && len > 0xffff) throw new RangeError('payload too long for a 16-bit length');

  const headerLen = 2 + lenBytes + (mask ? 4 : 0);
  const frame = Buffer.allocUnsafe(headerLen + len);
  frame[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  if (lenBytes === 0) {
    frame[1] = len;
  } else if (lenBytes === 2) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  if (mask) {
    frame[1] |= 0x80;
    const key = randomBytes(4);
    key.copy(frame, 2 + lenBytes);
    const body = frame.subarray(headerLen);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  } else {
    payload.copy(frame, headerLen);
  }
  return frame;
}

/** Payload of a Close frame: a 2-byte status code, then the reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const r = toBuffer(reason);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** Close codes an endpoint may put on the wire (§7.4.1, §7.4.2, and the IANA-registered 1012-1014). */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Splits `buf` into pieces of `size` bytes (the last one may be shorter). */
export function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(i + size, buf.length)));
  return out;
}

/** Splits a message payload into data frames: first frame carries `opcode`, the rest are continuations. */
export function fragment(opcode: number, payload: Buffer | string, size: number): FrameSpec[] {
  const pieces = chunksOf(toBuffer(payload), size);
  if (pieces.length === 0) pieces.push(Buffer.alloc(0));
  return pieces.map((p, i) => ({
    opcode: i === 0 ? opcode : Op.Continuation,
    fin: i === pieces.length - 1,
    payload: p,
  }));
}

export class ProtocolViolation extends Error {
  override name = 'ProtocolViolation';
}

/**
 * Incremental, strict parser for frames sent by the implementation under test. It enforces what §5 requires
 * of a *sender*: RSV bits clear (except RSV1 on the first frame of a data message once permessage-deflate
 * was negotiated, RFC 7692 §6), known opcodes, control frames unfragmented and ≤ 125 bytes, minimal length
 * encoding, masking by role (§5.1), well-formed Close payloads (§5.5.1, §7.4), and the data-frame sequence
 * of §5.4.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private inMessage = false;
  /** Size of the frame at the head of the buffer once its header is known, so a large payload arriving
   * in many chunks is not re-examined on every chunk. */
  private need = 0;

  /**
   * @param expectMasked true when parsing frames sent by a client.
   * @param allowRsv1 true once permessage-deflate was negotiated: RSV1 marks a compressed message.
   */
  constructor(
    private readonly expectMasked: boolean,
    private readonly allowRsv1 = false,
  ) {}

  /** Feeds bytes; returns the frames completed so far. Throws {@link ProtocolViolation}. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.parseOne();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  /** The first `n` buffered bytes, copying only what is needed (never the whole backlog). */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    for (const c of this.chunks) {
      off += c.copy(out, off, 0, Math.min(c.length, n - off));
      if (off === n) break;
    }
    return out;
  }

  private consume(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }

  private parseOne(): Frame | undefined {
    if (this.buffered < 2 || this.buffered < this.need) return undefined;
    const head = this.peek(Math.min(this.buffered, 14));
    const b0 = head[0];
    const b1 = head[1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 0x07;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const lenBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLen = 2 + lenBytes + (masked ? 4 : 0);
    if (this.buffered < headerLen) return undefined;

    let len = len7;
    if (lenBytes === 2) {
      len = head.readUInt16BE(2);
      if (len < 126) throw new ProtocolViolation(`non-minimal 16-bit length encoding of ${len} (§5.2)`);
    } else if (lenBytes === 8) {
      const big = head.readBigUInt64BE(2);
      if (big >> 63n) throw new ProtocolViolation('64-bit length with the most significant bit set (§5.2)');
      if (big <= 0xffffn) throw new ProtocolViolation(`non-minimal 64-bit length encoding of ${big} (§5.2)`);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolViolation('absurd frame length');
      len = Number(big);
    }
    this.need = headerLen + len;
    if (this.buffered < this.need) return undefined;
    this.need = 0;

    if (rsv !== 0) {
      const firstOfMessage = opcode === Op.Text || opcode === Op.Binary;
      if (!this.allowRsv1) {
        throw new ProtocolViolation(`RSV bits ${rsv.toString(2)} set without an extension (§5.2)`);
      }
      if (rsv !== Rsv.RSV1 || !firstOfMessage) {
        throw new ProtocolViolation(
          `RSV bits ${rsv.toString(2)} on a ${firstOfMessage ? 'data' : 'continuation or control'} frame: ` +
            'permessage-deflate allows RSV1 on the first frame of a message only (RFC 7692 §6)',
        );
      }
    }
    if (masked !== this.expectMasked) {
      throw new ProtocolViolation(
        this.expectMasked ? 'client sent an unmasked frame (§5.1)' : 'server sent a masked frame (§5.1)',
      );
    }
    const isControl = opcode >= 0x8;
    if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) {
      throw new ProtocolViolation(`reserved opcode 0x${opcode.toString(16)} (§5.2)`);
    }
    if (isControl && !fin) throw new ProtocolViolation('fragmented control frame (§5.5)');
    if (isControl && len > 125) throw new ProtocolViolation(`control frame of ${len} bytes (§5.5)`);
    if (!isControl) {
      if (opcode === Op.Continuation && !this.inMessage) {
        throw new ProtocolViolation('continuation frame without a message to continue (§5.4)');
      }
      if (opcode !== Op.Continuation && this.inMessage) {
        throw new ProtocolViolation('new data frame inside a fragmented message (§5.4)');
      }
      this.inMessage = !fin;
    }

    const frame = this.consume(headerLen + len);
    const payload = Buffer.from(frame.subarray(headerLen));
    if (masked) {
      const key = frame.subarray(headerLen - 4, headerLen);
      for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
    }
    if (opcode === Op.Close) checkClosePayload(payload);
    return { fin, rsv, opcode, masked, payload };
  }
}

function checkClosePayload(payload: Buffer): void {
  if (payload.length === 0) return;
  if (payload.length === 1) throw new ProtocolViolation('Close frame with a 1-byte payload (§5.5.1)');
  const code = payload.readUInt16BE(0);
  if (!isSendableCloseCode(code)) throw new ProtocolViolation(`Close frame with status code ${code} (§7.4)`);
  if (!isValidUtf8(payload.subarray(2))) throw new ProtocolViolation('Close reason is not UTF-8 (§5.5.1)');
}

export function describeFrame(f: Frame): string {
  const names: Record<number, string> = {
    0: 'cont',
    1: 'text',
    2: 'binary',
    8: 'close',
    9: 'ping',
    10: 'pong',
  };
  let detail = `${f.payload.length}B`;
  if (f.opcode === Op.Close && f.payload.length >= 2) detail = `code ${f.payload.readUInt16BE(0)}`;
  else if (f.payload.length <= 16) detail += ` ${f.payload.toString('hex')}`;
  return `${names[f.opcode] ?? `op${f.opcode}`}${f.fin ? '' : '(fin=0)'}[${detail}]`;
}
