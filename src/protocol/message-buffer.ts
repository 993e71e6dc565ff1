import { Buffer } from 'node:buffer';

/** Pieces at least this large are kept by reference; smaller ones are copied together. */
const KEEP_THRESHOLD = 16 * 1024;
const MIN_SPILL = 4 * 1024;

/**
 * Gathers the pieces of one message with constant overhead per piece, so that the message's size alone
 * bounds its memory, however it was fragmented: small pieces (a flood of tiny fragments) are copied into
 * a buffer that grows geometrically; large pieces are kept by reference when they are most of the
 * chunk they came in (so a view does not pin a much larger chunk), and joined once at the end.
 */
export class MessageBuffer {
  private parts: Buffer[] = [];
  private spill: Buffer | null = null;
  private spillLength = 0;
  private spillStart = 0;
  length = 0;

  /** Adds a piece. Large pieces are kept by reference: the caller must not reuse their memory. */
  append(piece: Buffer): void {
    const n = piece.length;
    if (n === 0) return;
    this.length += n;
    if (n >= KEEP_THRESHOLD && n * 2 >= piece.buffer.byteLength) {
      this.flushSpill();
      this.parts.push(piece);
      return;
    }
    if (this.spill === null || this.spillLength + n > this.spill.length) this.growSpill(n);
    piece.copy(this.spill!, this.spillLength);
    this.spillLength += n;
  }

  /** The whole message, as one Buffer; the buffer is then empty again. */
  take(): Buffer {
    this.flushSpill();
    const parts = this.parts;
    const result = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.length);
    this.reset();
    return result;
  }

  /** The message as the list of its pieces (ws's binaryType 'fragments'); the buffer is then empty. */
  takeParts(): Buffer[] {
    this.flushSpill();
    const parts = this.parts;
    this.reset();
    return parts;
  }

  reset(): void {
    this.parts = [];
    this.spill = null;
    this.spillLength = 0;
    this.spillStart = 0;
    this.length = 0;
  }

  private flushSpill(): void {
    if (this.spill !== null && this.spillLength > this.spillStart) {
      this.parts.push(this.spill.subarray(this.spillStart, this.spillLength));
      this.spillStart = this.spillLength;
    }
  }

  private growSpill(n: number): void {
    const used = this.spillLength - this.spillStart;
    const capacity = Math.max(used + n, used * 2, MIN_SPILL);
    const next = Buffer.allocUnsafe(capacity);
    if (this.spill !== null && used > 0) this.spill.copy(next, 0, this.spillStart, this.spillLength);
    this.spill = next;
    this.spillStart = 0;
    this.spillLength = used;
  }
}
