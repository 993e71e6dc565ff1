// Frames serialized per second: Protocol.send + takeOutput in bursts of 64 frames, as a server
// (unmasked) and as a client (masked with fresh keys); serializeFrame; and ws's Sender.frame in the
// same run (readOnly as ws's send() passes user Buffers, so a masked payload is copied, not masked
// in place).
// Run: node --import tsx bench/micro/serialize.ts
import { createRequire } from 'node:module';
import { serializeFrame } from '../../src/protocol/frame-serializer.js';
import { Protocol, type ProtocolHandler } from '../../src/protocol/protocol.js';
import { isMain, machine, measure, perSecond, table } from './common.js';

const require = createRequire(import.meta.url);
const Sender = require('../../node_modules/ws/lib/sender.js') as {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[];
};

const BURST = 64;
const noop = () => {};
const handler: ProtocolHandler = {
  onMessage: noop,
  onPing: noop,
  onPong: noop,
  onCloseFrame: noop,
  onProtocolError: noop,
};

/** Keeps results alive so the work cannot be optimised away. */
let sink = 0;

function burst(p: Protocol, payload: Buffer): () => void {
  return () => {
    for (let i = 0; i < BURST; i++) p.send(payload, true);
    const out = p.takeOutput()!;
    sink += out.length;
  };
}

function wsBurst(payload: Buffer, mask: boolean): () => void {
  const options = { fin: true, opcode: 2, mask, readOnly: true };
  return () => {
    for (let i = 0; i < BURST; i++) sink += Sender.frame(payload, options).length;
  };
}

const SIZES: Array<[string, number]> = [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
];

export function run(): string {
  const rows: string[][] = [];
  for (const [label, size] of SIZES) {
    const payload = Buffer.alloc(size, 0x62);
    const server = measure(burst(new Protocol(handler, { role: 'server' }), payload), BURST);
    const client = measure(burst(new Protocol(handler, { role: 'client' }), payload), BURST);
    const single = measure(() => {
      sink += serializeFrame(payload, { opcode: 2 }).length;
    }, 1);
    const wsServer = measure(wsBurst(payload, false), BURST);
    const wsClient = measure(wsBurst(payload, true), BURST);
    rows.push([
      label,
      perSecond(server),
      perSecond(wsServer),
      perSecond(client),
      perSecond(wsClient),
      perSecond(single),
    ]);
  }
  if (sink === 0) throw new Error('nothing serialized');
  return table(
    [
      'payload',
      'wskit server (unmasked)',
      'ws Sender.frame unmasked',
      'wskit client (masked)',
      'ws Sender.frame masked',
      'serializeFrame',
    ],
    rows,
  );
}

if (isMain(import.meta.url)) {
  console.log(`# Frames serialized, ${machine()}\n`);
  console.log(run());
}
