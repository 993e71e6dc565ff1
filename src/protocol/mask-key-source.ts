import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

/** Fills `mask` (4 bytes) with a masking key; the `generateMask` option of ws. */
export type MaskGenerator = (mask: Buffer) => void;

/**
 * Masking keys for client frames (RFC 6455 §10.3: unpredictable, from a strong source), drawn from a
 * per-connection pool of cryptographic random bytes refilled when used up: one system call per
 * `poolSize / 4` frames.
 */
export class MaskKeySource {
  private pool: Buffer | null = null;
  private offset = 0;
  private readonly poolSize: number;
  private readonly generate: MaskGenerator | undefined;

  constructor(options: { poolSize?: number; generate?: MaskGenerator } = {}) {
    this.poolSize = options.poolSize ?? 1024;
    this.generate = options.generate;
  }

  /** Writes a fresh 4-byte key into `target` at `offset`. */
  write(target: Buffer, offset: number): void {
    if (this.generate !== undefined) {
      const key = target.subarray(offset, offset + 4);
      this.generate(key);
      return;
    }
    if (this.pool === null || this.offset + 4 > this.pool.length) {
      this.pool ??= Buffer.allocUnsafeSlow(this.poolSize);
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const pool = this.pool;
    const o = this.offset;
    target[offset] = pool[o];
    target[offset + 1] = pool[o + 1];
    target[offset + 2] = pool[o + 2];
    target[offset + 3] = pool[o + 3];
    this.offset = o + 4;
  }
}
