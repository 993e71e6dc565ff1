// UTF-8 test vectors after Markus Kuhn's "UTF-8 decoder capability and stress test" and Autobahn's groups
// 6.5-6.23. Validity is stated per category (RFC 3629: no surrogates, nothing above U+10FFFF, no overlong
// forms; noncharacters ARE valid); a self-check test confirms the reference checker agrees.
import { checkUtf8 } from './utf8.js';

export interface Utf8Category {
  title: string;
  /** Whether every vector of the category is valid; undefined: computed per vector (prefix category). */
  valid?: boolean;
  vectors: Buffer[];
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const KOSME = hex('ceba e1bdb9 cf83 cebc ceb5'); // "κόσμε"

/** Bytes lo..hi (inclusive), each followed by a space when `spaced`. */
function byteRange(lo: number, hi: number, spaced: boolean): Buffer {
  const out: number[] = [];
  for (let b = lo; b <= hi; b++) out.push(...(spaced ? [b, 0x20] : [b]));
  return Buffer.from(out);
}

function noncharacters(): Buffer[] {
  const out = [hex('efbfbe'), hex('efbfbf')]; // U+FFFE, U+FFFF
  // U+nFFFE and U+nFFFF of planes 1-16: F0-F4, second byte 8F/9F/AF/BF, then BF BE|BF.
  for (const lead of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const second of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (lead === 0xf0 && second === 0x8f) continue; // would be an overlong form of plane 0
      if (lead === 0xf4 && second !== 0x8f) continue; // beyond U+10FFFF
      for (const last of [0xbe, 0xbf]) out.push(Buffer.from([lead, second, 0xbf, last]));
    }
  }
  return out;
}

const INCOMPLETE = [
  'c0',
  'e080',
  'f08080',
  'f8808080',
  'fc80808080',
  'df',
  'efbf',
  'f7bfbf',
  'fbbfbfbf',
  'fdbfbfbfbf',
].map(hex);

export const UTF8_CATEGORIES: Utf8Category[] = [
  {
    title: 'some valid UTF-8',
    valid: true,
    vectors: [
      Buffer.from('hello$world'),
      Buffer.from('hello¢world'),
      Buffer.from('hello€world'),
      Buffer.from('hello𤭢world'),
      KOSME,
    ],
  },
  {
    title: 'prefixes of "κόσμε"',
    vectors: Array.from({ length: KOSME.length }, (_, i) => KOSME.subarray(0, i + 1)),
  },
  {
    title: 'first possible sequence of each length',
    valid: true,
    vectors: ['00', 'c280', 'e0a080', 'f0908080'].map(hex),
  },
  {
    title: 'first possible 5- and 6-byte sequences',
    valid: false,
    vectors: ['f888808080', 'fc8480808080'].map(hex),
  },
  {
    title: 'last possible sequence of each length',
    valid: true,
    vectors: ['7f', 'dfbf', 'efbfbf', 'f48fbfbf'].map(hex),
  },
  {
    title: 'last possible 4-, 5- and 6-byte patterns',
    valid: false,
    vectors: ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf'].map(hex),
  },
  {
    title: 'other boundaries, valid',
    valid: true,
    vectors: ['ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf'].map(hex),
  },
  { title: 'first code point beyond U+10FFFF', valid: false, vectors: [hex('f4908080')] },
  {
    title: 'unexpected continuation bytes',
    valid: false,
    vectors: [
      ...['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf'].map(hex),
      byteRange(0x80, 0xbf, false),
    ],
  },
  {
    title: 'lonely start bytes followed by spaces',
    valid: false,
    vectors: [
      byteRange(0xc0, 0xdf, true),
      byteRange(0xe0, 0xef, true),
      byteRange(0xf0, 0xf7, true),
      byteRange(0xf8, 0xfb, true),
      byteRange(0xfc, 0xfd, true),
    ],
  },
  { title: 'sequences with the last continuation byte missing', valid: false, vectors: INCOMPLETE },
  { title: 'concatenation of incomplete sequences', valid: false, vectors: [Buffer.concat(INCOMPLETE)] },
  { title: 'impossible bytes', valid: false, vectors: ['fe', 'ff', 'fefeffff'].map(hex) },
  {
    title: 'overlong "/"',
    valid: false,
    vectors: ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'].map(hex),
  },
  {
    title: 'maximum overlong sequences',
    valid: false,
    vectors: ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'].map(hex),
  },
  {
    title: 'overlong NUL',
    valid: false,
    vectors: ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'].map(hex),
  },
  {
    title: 'single UTF-16 surrogates',
    valid: false,
    vectors: ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'].map(hex),
  },
  {
    title: 'paired UTF-16 surrogates',
    valid: false,
    vectors: [
      'eda080edb080',
      'eda080edbfbf',
      'edadbfedb080',
      'edadbfedbfbf',
      'edae80edb080',
      'edae80edbfbf',
      'edafbfedb080',
      'edafbfedbfbf',
    ].map(hex),
  },
  { title: 'noncharacters (valid UTF-8)', valid: true, vectors: noncharacters() },
  {
    title: 'Unicode specials',
    valid: true,
    vectors: ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'].map(hex),
  },
];

/** Expected validity of a vector: the category's, or (prefix category) what the reference checker says. */
export function expectedValid(cat: Utf8Category, v: Buffer): boolean {
  return cat.valid ?? checkUtf8(v).valid;
}
