import { isUtf8 } from 'node:buffer';

/**
 * Validates UTF-8 that arrives in pieces (fragments, or parts of one frame), failing on the piece that
 * holds the first invalid byte, even when that byte only starts a sequence the rest of which has not
 * arrived (RFC 6455 §8.1 "fail fast"). Whole sequences are checked by Node's native `isUtf8`; only the
 * at most three bytes of a sequence cut at a piece boundary go through the small state machine here.
 */
export class Utf8Validator {
  /** Continuation bytes still expected by the sequence cut at the end of the last piece. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4). */
  private lo = 0x80;
  private hi = 0xbf;

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** True when no sequence is left unfinished: the text may end here. */
  get complete(): boolean {
    return this.need === 0;
  }

  /** Checks `buf[start, end)`; returns false as soon as the bytes so far cannot be valid UTF-8. */
  push(buf: Uint8Array, start = 0, end = buf.length): boolean {
    let i = start;
    while (this.need > 0 && i < end) {
      if (!this.continuation(buf[i])) return false;
      i++;
    }
    if (i === end) return true;
    // Find where a sequence left unfinished at the end of the piece starts.
    let cut = end;
    let k = 0;
    while (k < 3 && end - 1 - k >= i && (buf[end - 1 - k] & 0xc0) === 0x80) k++;
    const p = end - 1 - k;
    if (p >= i) {
      const lead = buf[p];
      const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (size > k + 1) cut = p;
    } else {
      return false; // only continuation bytes, with no sequence open
    }
    if (cut > i) {
      const whole = i === 0 && cut === buf.length ? buf : buf.subarray(i, cut);
      if (!isUtf8(whole)) return false;
    }
    for (let j = cut; j < end; j++) {
      if (j === cut) {
        if (!this.lead(buf[j])) return false;
      } else if (!this.continuation(buf[j])) {
        return false;
      }
    }
    return true;
  }

  private lead(b: number): boolean {
    if (b < 0xc2 || b > 0xf4) return false;
    if (b < 0xe0) {
      this.need = 1;
    } else if (b < 0xf0) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      else if (b === 0xed) this.hi = 0x9f;
    } else {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      else if (b === 0xf4) this.hi = 0x8f;
    }
    return true;
  }

  private continuation(b: number): boolean {
    if (b < this.lo || b > this.hi) return false;
    this.lo = 0x80;
    this.hi = 0xbf;
    this.need--;
    return true;
  }
}

/** Whether a complete byte sequence is valid UTF-8. */
export function isValidUtf8(buf: Uint8Array): boolean {
  return isUtf8(buf);
}
