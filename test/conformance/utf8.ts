// Reference UTF-8 checker for the suite itself (Unicode Table 3-7, well-formed byte sequences). It tells
// not only whether bytes are valid but the first byte at which no valid continuation exists any more — the
// point at which a fail-fast endpoint (Autobahn 6.4) must give up on the message.

export interface Utf8Verdict {
  /** The bytes form complete, well-formed UTF-8. */
  valid: boolean;
  /**
   * Index of the first byte that cannot be part of any well-formed sequence, or null when every prefix is
   * the prefix of some valid text (valid, or invalid only because it ends mid-sequence).
   */
  failAt: number | null;
}

export function checkUtf8(bytes: Uint8Array): Utf8Verdict {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (need === 0) {
      if (b <= 0x7f) continue;
      lo = 0x80;
      hi = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0; // below: overlong
        if (b === 0xed) hi = 0x9f; // above: UTF-16 surrogates
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90; // below: overlong
        if (b === 0xf4) hi = 0x8f; // above: beyond U+10FFFF
      } else {
        return { valid: false, failAt: i }; // 80-C1 (continuation or overlong lead), F5-FF
      }
    } else {
      if (b < lo || b > hi) return { valid: false, failAt: i };
      need--;
      lo = 0x80;
      hi = 0xbf;
    }
  }
  return { valid: need === 0, failAt: null };
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  return checkUtf8(bytes).valid;
}
