// SECURITY.md, "Tiny fragments" (the class of attacks where a message sent as a flood of 0- or
// 1-byte fragments costs the receiver a buffer object per fragment, and empty fragments count
// nothing against the size limit, so memory grows without bound). wskit counts every fragment's
// bytes against maxPayload before buffering them, copies small pieces into one buffer that grows
// geometrically (so a message's memory is its size plus a constant, however it was cut) and keeps
// nothing for an empty fragment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocket } from '../../src/index.js';
import { MessageBuffer } from '../../src/protocol/index.js';
import { clientFrame, closeCodeOf, rawWebSocket, serve, serverFrames, within } from './helpers.js';

const TEXT = 0x1;
const CONTINUATION = 0x0;
const NOT_FIN = 0x00;

/** A text message as one frame per piece: the first a Text frame, the rest continuations, FIN on the last. */
function fragmented(pieces: Buffer[]): Buffer {
  return Buffer.concat(
    pieces.map((piece, i) =>
      clientFrame(i === 0 ? TEXT : CONTINUATION, piece, i === pieces.length - 1 ? 0x80 : NOT_FIN),
    ),
  );
}

/** What the server sends back until it closes the connection. */
function serverOutput(socket: import('node:net').Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return within(
    new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks)))),
    'the server to close the connection',
  );
}

describe('tiny fragments', () => {
  it('a 100,000-byte text message in 100,000 one-byte fragments (UTF-8 split across them) arrives whole', async () => {
    const { wss, port } = await serve();
    const text = 'é€😀a'.repeat(10_000); // 2 + 3 + 4 + 1 bytes, repeated: 100,000 bytes
    const bytes = Buffer.from(text);
    assert.equal(bytes.length, 100_000);
    const received = within(
      new Promise<string>((resolve) =>
        wss.once('connection', (ws: WebSocket) => ws.once('message', (data) => resolve(String(data)))),
      ),
      'the message',
    );
    const { socket } = await rawWebSocket(port);
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    socket.write(fragmented(pieces));
    assert.equal(await received, text);
  });

  it('one-byte fragments count against maxPayload: 10,001 of them with maxPayload 10,000 close with 1009', async () => {
    const { port } = await serve({ maxPayload: 10_000 });
    const { socket } = await rawWebSocket(port);
    const output = serverOutput(socket);
    const pieces = Array.from({ length: 10_001 }, () => Buffer.from('x'));
    socket.write(fragmented(pieces));
    const frames = serverFrames(await output);
    assert.equal(frames.at(-1)?.opcode, 0x8);
    assert.equal(closeCodeOf(frames.at(-1)!.payload), 1009);
  });

  it('200,000 empty continuation frames inside a message: delivered as the message, the connection carries on', async () => {
    const { wss, port } = await serve();
    const messages: string[] = [];
    const two = within(
      new Promise<void>((resolve) =>
        wss.once('connection', (ws: WebSocket) =>
          ws.on('message', (data) => {
            messages.push(String(data));
            if (messages.length === 2) resolve();
          }),
        ),
      ),
      'two messages',
    );
    const { socket } = await rawWebSocket(port);
    const empty = Buffer.alloc(0);
    const pieces = [Buffer.from('a'), ...Array.from({ length: 200_000 }, () => empty), Buffer.from('b')];
    socket.write(fragmented(pieces));
    socket.write(clientFrame(TEXT, 'next'));
    await two;
    assert.deepEqual(messages, ['ab', 'next']);
  });

  it('a fragmented message cannot start before the last one ended: Text inside a fragmented message is 1002', async () => {
    const { port } = await serve();
    const { socket } = await rawWebSocket(port);
    const output = serverOutput(socket);
    socket.write(Buffer.concat([clientFrame(TEXT, 'a', NOT_FIN), clientFrame(TEXT, 'b')]));
    const frames = serverFrames(await output);
    assert.equal(closeCodeOf(frames.at(-1)!.payload), 1002);
  });

  it('the buffer that gathers a message keeps a handful of pieces for a flood of small ones, not one per fragment', () => {
    const buffer = new MessageBuffer();
    // Each piece from its own chunk (the worst case: no two pieces adjacent in memory).
    for (let i = 0; i < 100_000; i++) {
      buffer.append(Buffer.from([i & 0xff]));
      buffer.append(Buffer.alloc(0));
    }
    assert.equal(buffer.length, 100_000);
    const parts = buffer.takeParts();
    // Geometric growth from 4 KiB: a handful of copies, never one object per fragment.
    assert.ok(parts.length <= 8, `${parts.length} pieces kept`);
    const joined = Buffer.concat(parts);
    assert.equal(joined.length, 100_000);
    for (let i = 0; i < 100_000; i += 9973) assert.equal(joined[i], i & 0xff);
  });
});
