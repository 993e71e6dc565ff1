import { Buffer } from 'node:buffer';
import { frameHeaderSize, writeFrameHeader } from './frame-header.js';
import { Masker } from './mask.js';
import type { MaskKeySource } from './mask-key-source.js';

/** Unmasked payloads at least this large are written by reference instead of being copied. */
const ZERO_COPY_THRESHOLD = 16 * 1024;
const RAW = -1;

/**
 * The bytes waiting to be written, kept as frames until take() serializes them all at once: small
 * frames (and every masked or string payload) are laid out in one buffer, so a burst of sends becomes
 * one write; large unmasked payloads are passed by reference between the pieces of that buffer.
 */
export class OutputQueue {
  private readonly payloads: (Buffer | string)[] = [];
  private readonly firstBytes: number[] = [];
  private readonly lengths: number[] = [];
  private readonly masked: boolean;
  private readonly keys: MaskKeySource | null;
  private readonly masker: Masker | null;
  /** Bytes queued (payloads and headers). */
  bytes = 0;

  constructor(keys: MaskKeySource | null) {
    this.masked = keys !== null;
    this.keys = keys;
    this.masker = keys === null ? null : new Masker();
  }

  get isEmpty(): boolean {
    return this.payloads.length === 0;
  }

  /** Queues a frame; `length` is the payload's byte length (for a string, its UTF-8 length). */
  pushFrame(firstByte: number, payload: Buffer | string, length: number): void {
    this.payloads.push(payload);
    this.firstBytes.push(firstByte);
    this.lengths.push(length);
    this.bytes += length + frameHeaderSize(length, this.masked);
  }

  /** Queues bytes that are already framed (a broadcast framed once for many connections). */
  pushRaw(bytes: Buffer): void {
    this.payloads.push(bytes);
    this.firstBytes.push(RAW);
    this.lengths.push(bytes.length);
    this.bytes += bytes.length;
  }

  /** Serializes everything queued; returns the buffers to write in order, or null when empty. */
  take(): Buffer[] | null {
    const count = this.payloads.length;
    if (count === 0) return null;
    const { payloads, firstBytes, lengths, masked } = this;
    let copied = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[i];
      const inline = masked || length < ZERO_COPY_THRESHOLD || typeof payloads[i] === 'string';
      if (firstBytes[i] === RAW) {
        if (length < ZERO_COPY_THRESHOLD) copied += length;
      } else {
        copied += frameHeaderSize(length, masked) + (inline ? length : 0);
      }
    }
    const out = Buffer.allocUnsafe(copied);
    const result: Buffer[] = [];
    let pos = 0;
    let segment = 0;
    for (let i = 0; i < count; i++) {
      const payload = payloads[i];
      const length = lengths[i];
      if (firstBytes[i] === RAW) {
        if (length < ZERO_COPY_THRESHOLD) {
          (payload as Buffer).copy(out, pos);
          pos += length;
        } else {
          if (pos > segment) result.push(out.subarray(segment, pos));
          result.push(payload as Buffer);
          segment = pos;
        }
        continue;
      }
      pos = writeFrameHeader(out, pos, firstBytes[i], length, masked);
      if (masked) {
        const keyAt = pos;
        this.keys!.write(out, keyAt);
        pos += 4;
        if (typeof payload === 'string') out.write(payload, pos, length, 'utf8');
        else payload.copy(out, pos);
        this.masker!.apply(out, pos, pos + length, out, keyAt);
        pos += length;
      } else if (typeof payload === 'string') {
        out.write(payload, pos, length, 'utf8');
        pos += length;
      } else if (length < ZERO_COPY_THRESHOLD) {
        payload.copy(out, pos);
        pos += length;
      } else {
        result.push(out.subarray(segment, pos));
        result.push(payload);
        segment = pos;
      }
    }
    if (pos > segment) result.push(segment === 0 && pos === out.length ? out : out.subarray(segment, pos));
    payloads.length = 0;
    firstBytes.length = 0;
    lengths.length = 0;
    this.bytes = 0;
    this.masker?.release();
    return result;
  }
}
