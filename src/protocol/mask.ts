import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * XORs payload bytes with a 4-byte masking key (RFC 6455 §5.3), 32 bits at a time.
 *
 * An instance caches one Uint32Array view of the last ArrayBuffer it worked on, so a read chunk holding
 * many small frames is masked without allocating a view per frame. The cache is per instance, never
 * shared between connections.
 */
export class Masker {
  private arrayBuffer: ArrayBufferLike | null = null;
  private words: Uint32Array | null = null;

  /**
   * Masks or unmasks `buf[start, end)` in place. `key` holds the masking key at `keyOffset`; `phase` is
   * the position within the payload of `buf[start]`, modulo 4 (non-zero when a payload is processed
   * in pieces).
   */
  apply(buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number, phase = 0): void {
    const k0 = key[keyOffset];
    const k1 = key[keyOffset + 1];
    const k2 = key[keyOffset + 2];
    const k3 = key[keyOffset + 3];
    let i = start;
    let p = phase & 3;
    // Bytes up to the next 4-byte boundary of the underlying ArrayBuffer.
    const abStart = buf.byteOffset + start;
    let head = (4 - (abStart & 3)) & 3;
    if (end - start < 8) head = end - start;
    for (; head > 0 && i < end; head--, i++, p = (p + 1) & 3) {
      buf[i] ^= p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
    }
    const words = (end - i) >>> 2;
    if (words > 0) {
      const m0 = p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
      const m1 = p === 0 ? k1 : p === 1 ? k2 : p === 2 ? k3 : k0;
      const m2 = p === 0 ? k2 : p === 1 ? k3 : p === 2 ? k0 : k1;
      const m3 = p === 0 ? k3 : p === 1 ? k0 : p === 2 ? k1 : k2;
      const word = LITTLE_ENDIAN
        ? (m0 | (m1 << 8) | (m2 << 16) | (m3 << 24)) >>> 0
        : ((m0 << 24) | (m1 << 16) | (m2 << 8) | m3) >>> 0;
      const view = this.view(buf.buffer);
      const first = (buf.byteOffset + i) >>> 2;
      const last = first + words;
      for (let w = first; w < last; w++) view[w] ^= word;
      i += words << 2;
    }
    for (; i < end; i++, p = (p + 1) & 3) {
      buf[i] ^= p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
    }
  }

  /** Drops the cached view, so that the buffer it points to can be collected. */
  release(): void {
    this.arrayBuffer = null;
    this.words = null;
  }

  private view(ab: ArrayBufferLike): Uint32Array {
    // The length check catches a resizable ArrayBuffer that grew or shrank since the view was made.
    if (ab !== this.arrayBuffer || this.words === null || this.words.length !== ab.byteLength >>> 2) {
      this.arrayBuffer = ab;
      this.words = new Uint32Array(ab, 0, ab.byteLength >>> 2);
    }
    return this.words;
  }
}
