import { endianness } from 'node:os';
import { SHARED_SIMD_XOR, SIMD_BLOCK, type SimdXor } from './mask-simd.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * From this many bytes on, 32-bit words beat the unrolled byte loop; below it, getting the word view
 * and aligning to it cost more than they save (measured: docs/performance.md).
 */
const WORDS_FROM = 48;

/**
 * From this many bytes on, copying into the WebAssembly kernel's scratch area, masking there and
 * copying back beats the JavaScript word loop (measured: docs/performance.md).
 */
const SIMD_FROM = 1024;

/**
 * XORs payload bytes with a 4-byte masking key (RFC 6455 §5.3): 128 bits at a time in WebAssembly for
 * large ranges (where WebAssembly SIMD is available), 32 bits at a time in JavaScript for middling ones,
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
  private readonly simd: SimdXor | null;

  /** `simd`: the WebAssembly kernel to use for large ranges; null masks everything in JavaScript. */
  constructor(simd: SimdXor | null = SHARED_SIMD_XOR) {
    this.simd = simd;
  }

  /**
   * Masks or unmasks `buf[start, end)` in place. `key` holds the masking key at `keyOffset`; `phase` is
   * the position within the payload of `buf[start]`, modulo 4 (non-zero when a payload is processed
   * in pieces).
   */
  apply(buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number, phase = 0): void {
    if (end - start >= SIMD_FROM && this.simd !== null) {
      this.simdCopy(this.simd, buf, start, end, buf, start, key, keyOffset, phase);
      return;
    }
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

  /**
   * Masks or unmasks `src[start, end)` into `dst` from `dstPos` on, leaving `src` as it was unless the
   * two overlap. They may overlap when the bytes move towards the start (`dst` is `src`'s memory and
   * the destination address is not after the source address), as when a payload is moved in place.
   * `key`, `keyOffset` and `phase` are as for apply(); the key must not lie in the destination range.
   */
  applyTo(
    src: Uint8Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstPos: number,
    key: Uint8Array,
    keyOffset: number,
    phase = 0,
  ): void {
    if (end - start >= SIMD_FROM && this.simd !== null) {
      this.simdCopy(this.simd, src, start, end, dst, dstPos, key, keyOffset, phase);
      return;
    }
    dst.set(src.subarray(start, end), dstPos);
    this.apply(dst, dstPos, dstPos + end - start, key, keyOffset, phase);
  }

  /** Drops the cached view, so that the buffer it points to can be collected. */
  release(): void {
    this.source = null;
    this.arrayBuffer = null;
    this.words = null;
  }

  /** Through the WebAssembly kernel, one scratch area's worth at a time. */
  private simdCopy(
    simd: SimdXor,
    src: Uint8Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstPos: number,
    key: Uint8Array,
    keyOffset: number,
    phase: number,
  ): void {
    const p = phase & 3;
    // The key rotated by the phase, as the little-endian word WebAssembly loads.
    const word =
      key[keyOffset + p] |
      (key[keyOffset + ((p + 1) & 3)] << 8) |
      (key[keyOffset + ((p + 2) & 3)] << 16) |
      (key[keyOffset + ((p + 3) & 3)] << 24);
    const scratch = simd.scratch;
    // Each block is read whole before it is written out, so a move towards the start is safe.
    for (let i = start; i < end; i += SIMD_BLOCK) {
      const n = Math.min(end - i, SIMD_BLOCK);
      scratch.set(n === src.length ? src : src.subarray(i, i + n));
      simd.xor(n, word);
      dst.set(n === SIMD_BLOCK ? scratch : scratch.subarray(0, n), dstPos + i - start);
    }
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
