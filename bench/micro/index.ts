// Runs every protocol-core micro-benchmark and prints Markdown tables (the figures of
// docs/performance.md). Run: node --import tsx bench/micro/index.ts
// BENCH_MICRO_SAMPLES (default 7) and BENCH_MICRO_MS (default 100) set the samples per figure (the
// median is kept) and the length of each sample.
import { machine } from './common.js';
import { run as mask } from './mask.js';
import { run as parse } from './parse.js';
import { run as serialize } from './serialize.js';
import { run as utf8 } from './utf8.js';

const sections: Array<[string, () => string]> = [
  ['Masking (unmask in place, payload 1 byte off alignment)', mask],
  ['UTF-8 validation', utf8],
  ['Frames parsed (masked client frames, server Protocol, 64 KiB chunks)', parse],
  ['Frames serialized (bursts of 64 sends, then takeOutput)', serialize],
];

console.log(`Machine: ${machine()}\n`);
for (const [title, run] of sections) {
  console.log(`### ${title}\n`);
  console.log(run());
  console.log();
}
