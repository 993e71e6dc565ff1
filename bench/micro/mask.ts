// Masking throughput: wskit's Masker.apply (WebAssembly SIMD from 1 KiB, where available), the same in
// JavaScript only, against a naive byte loop and ws's JavaScript unmask
// (bufferutil is not installed, so ws uses its byte loop below Node's native websocketUnmask, which
// Node 20 does not have).
// Run: node --import tsx bench/micro/mask.ts
import { createRequire } from 'node:module';
import { Masker } from '../../src/protocol/mask.js';
import { gbPerSecond, isMain, machine, measure, table } from './common.js';

const require = createRequire(import.meta.url);
const wsBufferUtil = require('../../node_modules/ws/lib/buffer-util.js') as {
  unmask(buffer: Buffer, mask: Buffer): void;
};

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function naive(buf: Buffer, key: Buffer): void {
  for (let i = 0; i < buf.length; i++) buf[i] ^= key[i & 3];
}

const SIZES: Array<[string, number]> = [
  ['16 B', 16],
  ['125 B', 125],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['16 MiB', 16 * 1024 * 1024],
];

export function run(): string {
  const rows: string[][] = [];
  const masker = new Masker();
  const jsOnly = new Masker(null);
  for (const [label, size] of SIZES) {
    // One byte into a larger buffer, as a payload usually sits behind a frame header: unaligned.
    const backing = Buffer.alloc(size + 8, 0x61);
    const buf = backing.subarray(1, 1 + size);
    const wskit = measure(() => masker.apply(buf, 0, size, KEY, 0), size);
    const js = measure(() => jsOnly.apply(buf, 0, size, KEY, 0), size);
    const loop = measure(() => naive(buf, KEY), size);
    const ws = measure(() => wsBufferUtil.unmask(buf, KEY), size);
    rows.push([
      label,
      gbPerSecond(wskit),
      gbPerSecond(js),
      gbPerSecond(loop),
      gbPerSecond(ws),
      `${(wskit / ws).toFixed(1)}x`,
    ]);
  }
  return table(
    [
      'payload',
      'Masker.apply',
      'Masker, JavaScript only',
      'naive byte loop',
      'ws unmask (JS)',
      'Masker / ws',
    ],
    rows,
  );
}

if (isMain(import.meta.url)) {
  console.log(`# Masking (unmask in place), ${machine()}\n`);
  console.log(run());
}
