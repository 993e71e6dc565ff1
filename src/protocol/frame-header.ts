import { MAX_CONTROL_PAYLOAD } from './constants.js';

/** Size of the header of a frame with `length` payload bytes: 2, 4 or 10 bytes, plus 4 when masked. */
export function frameHeaderSize(length: number, masked: boolean): number {
  const base = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header with the minimal length encoding into `target` at `offset`. `firstByte` is
 * FIN | RSV1-3 | opcode. When `masked`, the 4 bytes after the length are left for the masking key.
 * Returns the offset just past the header (the masking key's offset when masked).
 */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  firstByte: number,
  length: number,
  masked: boolean,
): number {
  const maskBit = masked ? 0x80 : 0;
  target[offset] = firstByte;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
    return offset + 2;
  }
  if (length < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = length >>> 8;
    target[offset + 3] = length & 0xff;
    return offset + 4;
  }
  target[offset + 1] = maskBit | 127;
  const hi = Math.floor(length / 0x100000000);
  target.writeUInt32BE(hi, offset + 2);
  target.writeUInt32BE(length >>> 0, offset + 6);
  return offset + 10;
}

/** Whether an opcode is a control opcode (Close, Ping, Pong or reserved 0xB-0xF). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export { MAX_CONTROL_PAYLOAD };
