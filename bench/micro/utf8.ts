// UTF-8 validation throughput: wskit's streaming Utf8Validator fed 64 KiB pieces (as a fragmented or
// chunked text message arrives), against Node's isUtf8 on the whole text (what ws does, once the
// message is complete).
// Run: node --import tsx bench/micro/utf8.ts
import { isUtf8 } from 'node:buffer';
import { Utf8Validator } from '../../src/protocol/utf8-validator.js';
import { gbPerSecond, isMain, machine, measure, table } from './common.js';

const SIZE = 16 * 1024 * 1024;
const PIECE = 64 * 1024;

function textOf(sample: string): Buffer {
  const unit = Buffer.from(sample);
  const out = Buffer.allocUnsafe(SIZE);
  let pos = 0;
  while (pos + unit.length <= SIZE) pos += unit.copy(out, pos);
  // Pad with ASCII so the text ends on a whole character.
  out.fill(0x20, pos);
  return out;
}

const INPUTS: Array<[string, Buffer]> = [
  ['ASCII', textOf('The quick brown fox jumps over the lazy dog. 0123456789 {"key": [1, 2, 3]}\n')],
  [
    'multi-byte (Greek, CJK, accents, emoji)',
    textOf('κόσμε Ελληνικά 日本語のテキスト Ünïcödé façade 🎉🚀 mixed with ascii '),
  ],
];

export function run(): string {
  const rows: string[][] = [];
  for (const [label, text] of INPUTS) {
    if (!isUtf8(text)) throw new Error(`${label}: the sample is not valid UTF-8`);
    const validator = new Utf8Validator();
    const streaming = measure(() => {
      validator.reset();
      for (let start = 0; start < SIZE; start += PIECE) {
        if (!validator.push(text, start, Math.min(start + PIECE, SIZE))) throw new Error('invalid');
      }
      if (!validator.complete) throw new Error('incomplete');
    }, SIZE);
    const whole = measure(() => {
      if (!isUtf8(text)) throw new Error('invalid');
    }, SIZE);
    rows.push([`${label}, 16 MiB`, gbPerSecond(streaming), gbPerSecond(whole)]);
  }
  return table(['text', 'Utf8Validator, 64 KiB pieces', 'isUtf8, whole (ws)'], rows);
}

if (isMain(import.meta.url)) {
  console.log(`# UTF-8 validation, ${machine()}\n`);
  console.log(run());
}
