/**
 * The skeleton of a name: what it looks like, as a string that two look-alike names share. Two names
 * with the same skeleton cannot be in one room ("Ada", "ADA", "Аda" with a Cyrillic А, "Ａｄａ",
 * "Adá" are one name). In the spirit of the skeletons of Unicode Technical Standard #39, simplified:
 *
 * 1. NFKD: compatibility forms become their plain letters (fullwidth, mathematical, ligatures), and
 *    accents come apart from their letters;
 * 2. combining diacritical marks (accents) and variation selectors are dropped;
 * 3. letters of other scripts that look like Latin ones become them (confusables.ts), before and
 *    after lowercasing (a capital and its small letter may have different look-alikes);
 * 4. lowercase;
 * 5. Latin look-alikes among themselves: 0 and o; 1, I, i, l and | (one stroke); "rn" and m; "vv" and w;
 *    dashes and apostrophes of every kind.
 *
 * It is deliberately broad: a false match costs someone a different name; a missed one lets an
 * impostor sit next to the real person.
 */
import { LATIN_LOOKALIKES } from './confusables.js';

/**
 * The combining diacritical marks (accents of every script written with them) and the variation
 * selectors. Not every \p{M}: in Devanagari or Thai a vowel sign is part of the word, not an accent.
 */
const MARKS =
  /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;
const DASHES = /[\p{Pd}\u2212]/gu;
const APOSTROPHES = /[\u2018\u2019\u201b\u02bc\u02b9\u2032\u0060\u00b4]/gu;
const ONE_STROKE = /[1i|\u01c0]/g;

function mapLookalikes(text: string): string {
  let out = '';
  for (const char of text) out += LATIN_LOOKALIKES.get(char) ?? char;
  return out;
}

export function nameSkeleton(name: string): string {
  const plain = name.normalize('NFKD').replace(MARKS, '');
  return mapLookalikes(mapLookalikes(plain).toLowerCase())
    .replace(DASHES, '-')
    .replace(APOSTROPHES, "'")
    .replace(/0/g, 'o')
    .replace(ONE_STROKE, 'l')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w');
}
