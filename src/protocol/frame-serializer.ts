import { Buffer } from 'node:buffer';
import { frameHeaderSize, writeFrameHeader } from './frame-header.js';
import { Masker } from './mask.js';

export interface FrameOptions {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  /** A 4-byte masking key: the frame is masked with it (client frames). */
  mask?: Uint8Array;
}

/**
 * Serializes one frame into a new Buffer, with the minimal length encoding. The queue inside a
 * Protocol batches its own frames; this is for frames built once and sent many times (broadcast),
 * and for tests.
 */
export function serializeFrame(payload: Buffer | string, options: FrameOptions): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const masked = options.mask !== undefined;
  const size = frameHeaderSize(data.length, masked);
  const out = Buffer.allocUnsafe(size + data.length);
  const b0 = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | options.opcode;
  let pos = writeFrameHeader(out, 0, b0, data.length, masked);
  if (masked) {
    out.set(options.mask!.subarray(0, 4), pos);
    pos += 4;
  }
  data.copy(out, pos);
  if (masked) new Masker().apply(out, pos, out.length, out, pos - 4);
  return out;
}
