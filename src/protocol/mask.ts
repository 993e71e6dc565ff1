import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * From this many bytes on, 32-bit words beat the unrolled byte loop; below it, getting the word view
 * and aligning to it cost more than they save (measured: docs/performance.md).
 */
const WORDS_FROM = 48;

/**
 * XORs payload bytes with a 4-byte masking key (RFC 6455 §5.3): 32 bits at a time for large ranges,
 * four bytes per iteration for small ones.
 *
 * An instance caches one Uint32Array view of the last ArrayBuffer it worked on, so a read chunk holding
 * many frames is masked without allocating a view per frame. The cache is per instance, never shared
 * between connections.
 */
export class Masker {
  /** The array last worked on, its ArrayBuffer, and a Uint32Array view of the whole ArrayBuffer. */
  private source: Uint8Array | null = null;
  private arrayBuffer: ArrayBufferLike | null = null;
  private words: Uint32Array | null = null;

  /**
   * Masks or unmasks `buf[start, end)` in place. `key` holds the masking key at `keyOffset`; `phase` is
   * the position within the payload of `buf[start]`, modulo 4 (non-zero when a payload is processed
   * in pieces).
   */
  apply(buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number, phase = 0): void {
    // The key rotated so that m0 applies to the next byte.
    const p = phase & 3;
    let m0 = key[keyOffset + p];
    let m1 = key[keyOffset + ((p + 1) & 3)];
    let m2 = key[keyOffset + ((p + 2) & 3)];
    let m3 = key[keyOffset + ((p + 3) & 3)];
    let i = start;
    if (end - start >= WORDS_FROM) {
      // Bytes up to the next 4-byte boundary of the underlying ArrayBuffer, rotating the key.
      const byteOffset = buf.byteOffset;
      for (let head = (4 - ((byteOffset + i) & 3)) & 3; head > 0; head--) {
        buf[i++] ^= m0;
        const t = m0;
        m0 = m1;
        m1 = m2;
        m2 = m3;
        m3 = t;
      }
      const word = LITTLE_ENDIAN
        ? (m0 | (m1 << 8) | (m2 << 16) | (m3 << 24)) >>> 0
        : ((m0 << 24) | (m1 << 16) | (m2 << 8) | m3) >>> 0;
      const first = (byteOffset + i) >>> 2;
      const last = first + ((end - i) >>> 2);
      const view = this.wordsOf(buf, last);
      let w = first;
      for (const last4 = last - 3; w < last4; w += 4) {
        view[w] ^= word;
        view[w + 1] ^= word;
        view[w + 2] ^= word;
        view[w + 3] ^= word;
      }
      for (; w < last; w++) view[w] ^= word;
      i += (last - first) << 2;
    } else {
      for (const stop = end - 3; i < stop; i += 4) {
        buf[i] ^= m0;
        buf[i + 1] ^= m1;
        buf[i + 2] ^= m2;
        buf[i + 3] ^= m3;
      }
    }
    // At most three bytes left.
    if (i < end) {
      buf[i] ^= m0;
      if (i + 1 < end) {
        buf[i + 1] ^= m1;
        if (i + 2 < end) buf[i + 2] ^= m2;
      }
    }
  }

  /** Drops the cached view, so that the buffer it points to can be collected. */
  release(): void {
    this.source = null;
    this.arrayBuffer = null;
    this.words = null;
  }

  /** A Uint32Array over the whole ArrayBuffer of `buf`, at least `last` words long. */
  private wordsOf(buf: Uint8Array, last: number): Uint32Array {
    let words = this.words;
    // The same array as last time (a chunk holding many frames) needs no look at its buffer; the
    // length checks catch a resizable ArrayBuffer that grew or shrank since the view was made.
    if (buf !== this.source || words === null || words.length < last) {
      const ab = buf.buffer;
      if (ab !== this.arrayBuffer || words === null || words.length !== ab.byteLength >>> 2) {
        words = new Uint32Array(ab, 0, ab.byteLength >>> 2);
        this.arrayBuffer = ab;
        this.words = words;
      }
      this.source = buf;
    }
    return words;
  }
}
