// Frames parsed per second: a stream of masked client frames (binary, and text for the UTF-8 check),
// cut into 64 KiB chunks held in separate buffers as a socket delivers them, fed to a server
// Protocol; and the same bytes fed to ws's Receiver in the same run.
// Run: node --import tsx bench/micro/parse.ts
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { serializeFrame } from '../../src/protocol/frame-serializer.js';
import { Protocol, type ProtocolHandler } from '../../src/protocol/protocol.js';
import { isMain, machine, measure, perSecond, table } from './common.js';

const require = createRequire(import.meta.url);
const Receiver = require('../../node_modules/ws/lib/receiver.js') as new (options: {
  isServer: boolean;
  maxPayload: number;
}) => Writable;

const CHUNK = 64 * 1024;
/** About this many bytes of frames per pass. */
const STREAM_BYTES = 8 * 1024 * 1024;

interface Stream {
  frames: number;
  /** The chunks as they must be fed (unmasked in place by both parsers)... */
  chunks: Buffer[];
  /** ...and their masked bytes, to restore them before each pass. */
  pristine: Buffer[];
}

function makeStream(payloadSize: number, opcode: number): Stream {
  const payload = Buffer.alloc(payloadSize, 0x61); // 'a': valid text too
  const frames = Math.max(1, Math.floor(STREAM_BYTES / (payloadSize + 14)));
  const key = Buffer.alloc(4);
  const parts: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    randomFillSync(key);
    parts.push(serializeFrame(payload, { opcode, mask: key }));
  }
  const all = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  const pristine: Buffer[] = [];
  for (let pos = 0; pos < all.length; pos += CHUNK) {
    const piece = all.subarray(pos, Math.min(pos + CHUNK, all.length));
    const chunk = Buffer.allocUnsafeSlow(piece.length);
    piece.copy(chunk);
    chunks.push(chunk);
    pristine.push(Buffer.from(piece));
  }
  return { frames, chunks, pristine };
}

function restore(s: Stream): void {
  for (let i = 0; i < s.chunks.length; i++) s.pristine[i].copy(s.chunks[i]);
}

function wskit(s: Stream): () => void {
  return () => {
    let messages = 0;
    const handler: ProtocolHandler = {
      onMessage: () => {
        messages++;
      },
      onPing: () => {},
      onPong: () => {},
      onCloseFrame: () => {},
      onProtocolError: (err) => {
        throw err;
      },
    };
    const p = new Protocol(handler, { role: 'server', maxPayload: 0 });
    for (const chunk of s.chunks) p.receive(chunk);
    if (messages !== s.frames) throw new Error(`wskit: ${messages} messages, expected ${s.frames}`);
  };
}

function ws(s: Stream): () => void {
  return () => {
    let messages = 0;
    const receiver = new Receiver({ isServer: true, maxPayload: 0 });
    receiver.on('message', () => {
      messages++;
    });
    receiver.on('error', (err) => {
      throw err;
    });
    // With allowSynchronousEvents (the default) the Receiver parses each write synchronously.
    for (const chunk of s.chunks) receiver.write(chunk);
    if (messages !== s.frames) throw new Error(`ws: ${messages} messages, expected ${s.frames}`);
  };
}

const SIZES: Array<[string, number]> = [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
];

export function run(): string {
  const rows: string[][] = [];
  for (const [kind, opcode] of [
    ['binary', 0x2],
    ['text', 0x1],
  ] as const) {
    for (const [label, size] of SIZES) {
      const s = makeStream(size, opcode);
      const prepare = () => restore(s);
      const ours = measure(wskit(s), s.frames, { prepare });
      const theirs = measure(ws(s), s.frames, { prepare });
      const bytes = s.chunks.reduce((n, c) => n + c.length, 0) / s.frames;
      rows.push([
        `${kind} ${label}`,
        perSecond(ours),
        `${((ours * bytes) / 1e9).toFixed(2)} GB/s`,
        perSecond(theirs),
        `${(ours / theirs).toFixed(2)}x`,
      ]);
    }
  }
  return table(['masked frames', 'wskit Protocol', 'wskit bytes', 'ws Receiver', 'wskit / ws'], rows);
}

if (isMain(import.meta.url)) {
  console.log(`# Frames parsed (server side, 64 KiB chunks), ${machine()}\n`);
  console.log(run());
}
