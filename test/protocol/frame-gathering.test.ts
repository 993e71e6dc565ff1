// Data frames that span chunks are gathered into one buffer (FrameParser): in the chunk where the frame
// begins when the bytes before its payload leave room for the rest, else into a buffer allocated for
// the payload, within a bound. Whatever the path and however the bytes are cut, messages arrive whole,
// and nothing handed on (messages, pings) is overwritten afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type FrameHandler, FrameParser, Protocol, type ProtocolHandler } from '../../src/protocol/index.js';
import { clientFrame, rawFrame, splitAt } from './helpers.js';

function patterned(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * (seed * 2 + 29) + (i >>> 8) + seed) & 0xff;
  return b;
}

/** Each chunk in its own memory, as a socket delivers them. */
function own(chunks: Buffer[]): Buffer[] {
  return chunks.map((c) => Buffer.from(c));
}

interface Kept {
  /** What the handler was given, not copied: it must not change afterwards. */
  views: Array<[string, Buffer]>;
  /** Copies taken when they arrived. */
  copies: Array<[string, Buffer]>;
  errors: string[];
}

/** A server Protocol whose handler keeps the Buffers it is given (as an application may). */
function keeper(maxPayload?: number): { p: Protocol; kept: Kept } {
  const kept: Kept = { views: [], copies: [], errors: [] };
  const keep = (kind: string, data: Buffer) => {
    kept.views.push([kind, data]);
    kept.copies.push([kind, Buffer.from(data)]);
  };
  const handler: ProtocolHandler = {
    onMessage: (data, isBinary) => keep(isBinary ? 'binary' : 'text', data),
    onPing: (data) => keep('ping', data),
    onPong: (data) => keep('pong', data),
    onCloseFrame: () => {},
    onProtocolError: (err) => kept.errors.push(err.code),
  };
  return { p: new Protocol(handler, { role: 'server', maxPayload }), kept };
}

/** The kept views still hold what they held when they arrived. */
function assertUntouched(kept: Kept): void {
  kept.views.forEach(([kind, view], i) => {
    assert.ok(view.equals(kept.copies[i][1]), `${kind} #${i} was overwritten after it was handed on`);
  });
}

type Piece = { data: string; last: boolean; gathered: boolean; piece: Buffer };

function recordingParser(): { fp: FrameParser; pieces: Piece[] } {
  const pieces: Piece[] = [];
  const handler: FrameHandler = {
    onDataFrame: () => {},
    onData: (piece, last, gathered) => pieces.push({ data: piece.toString('latin1'), last, gathered, piece }),
    onControlFrame: () => {},
  };
  return { fp: new FrameParser(handler, { isServer: true }), pieces };
}

describe('gathering a data frame that spans chunks', () => {
  it('a 64 KiB frame in a full 64 KiB read and 14 more bytes is gathered in the first chunk, no copy', () => {
    const payload = patterned(65536);
    const frame = clientFrame({ opcode: 0x2, payload });
    assert.equal(frame.length, 65536 + 14);
    const [first, second] = own(splitAt(frame, [65536]));
    const { p, kept } = keeper();
    p.receive(first);
    p.receive(second);
    assert.equal(kept.views.length, 1);
    const message = kept.views[0][1];
    assert.ok(message.equals(payload));
    assert.equal(message.buffer, first.buffer, 'moved within the chunk it began in');
  });

  it('the pieces of a gathered frame are consecutive views; joined, they are the payload', () => {
    const payload = patterned(3000);
    const frame = clientFrame({ opcode: 0x2, payload });
    const { fp, pieces } = recordingParser();
    // 8 header bytes, then 1000 + 1000 + 1000: no room before the payload, so a new buffer (<= 64 KiB).
    for (const chunk of own(splitAt(frame, [1008, 2008]))) fp.push(chunk);
    assert.deepEqual(
      pieces.map((x) => [x.piece.length, x.last, x.gathered]),
      [
        [1000, false, true],
        [1000, false, true],
        [1000, true, true],
      ],
    );
    const [a, b, c] = pieces.map((x) => x.piece);
    assert.equal(b.buffer, a.buffer);
    assert.equal(c.buffer, a.buffer);
    assert.equal(b.byteOffset, a.byteOffset + a.length);
    assert.equal(c.byteOffset, b.byteOffset + b.length);
    assert.ok(Buffer.from(a.buffer, a.byteOffset, 3000).equals(payload));
  });

  it('a frame within one chunk is not gathered: unmasked in place, one view of the chunk', () => {
    const frame = clientFrame({ opcode: 0x2, payload: patterned(500) });
    const { fp, pieces } = recordingParser();
    fp.push(frame);
    assert.equal(pieces.length, 1);
    assert.equal(pieces[0].gathered, false);
    assert.equal(pieces[0].piece.buffer, frame.buffer);
  });

  it('does not reserve a declared length up front: at most 64 KiB or twice what arrived', () => {
    const gatherOf = (fp: FrameParser) => (fp as unknown as { gather: Buffer | null }).gather;
    const cases: Array<[number, number, number | null]> = [
      // [declared length, payload bytes sent, expected gather buffer length (null: none)]
      [50 * 1024 * 1024, 10, null],
      [100 * 1024, 10, null],
      [100 * 1024, 60 * 1024, 100 * 1024],
      [60 * 1024, 10, 60 * 1024],
    ];
    for (const [declared, sent, expected] of cases) {
      const { fp, pieces } = recordingParser();
      const frame = clientFrame({ opcode: 0x2, payload: patterned(sent), declaredLength: declared });
      fp.push(Buffer.from(frame));
      assert.equal(pieces.length, 1);
      assert.equal(gatherOf(fp)?.length ?? null, expected, `declared ${declared}, sent ${sent}`);
      assert.ok(pieces[0].piece.equals(patterned(sent)));
      fp.stop();
      assert.equal(gatherOf(fp), null, 'stop() lets the gather buffer go');
    }
  });

  it('moves a payload only over bytes not handed on: a message and a ping before it stay intact', () => {
    // One chunk: a whole message, a whole ping, then the header of a 200-byte frame and its first 194
    // bytes; the frame's 6 last bytes come next, fewer than its 8 header bytes: it moves over its
    // header only.
    const before = clientFrame({ opcode: 0x2, payload: patterned(40, 2) });
    const ping = clientFrame({ opcode: 0x9, payload: patterned(20, 3) });
    const big = clientFrame({ opcode: 0x2, payload: patterned(200, 4) });
    const all = Buffer.concat([before, ping, big]);
    const { p, kept } = keeper();
    for (const chunk of own(splitAt(all, [all.length - 6]))) p.receive(chunk);
    assert.deepEqual(
      kept.copies.map(([kind, data]) => [kind, data.length]),
      [
        ['binary', 40],
        ['ping', 20],
        ['binary', 200],
      ],
    );
    assertUntouched(kept);
    assert.ok(kept.views[0][1].equals(patterned(40, 2)));
    assert.ok(kept.views[1][1].equals(patterned(20, 3)));
    assert.ok(kept.views[2][1].equals(patterned(200, 4)));
    assert.equal(kept.views[2][1].buffer, kept.views[0][1].buffer, 'gathered in place');
  });

  it('unmasked frames (client side) are gathered too', () => {
    const payload = patterned(70000);
    const frame = rawFrame({ opcode: 0x2, payload });
    const messages: Buffer[] = [];
    const client = new Protocol(
      {
        onMessage: (data) => messages.push(data),
        onPing: () => {},
        onPong: () => {},
        onCloseFrame: () => {},
        onProtocolError: (err) => assert.fail(err.message),
      },
      { role: 'client' },
    );
    for (const chunk of own(splitAt(frame, [10, 40000, 65536]))) client.receive(chunk);
    assert.equal(messages.length, 1);
    assert.ok(messages[0].equals(payload));
  });

  for (const size of [1, 125, 126, 1500, 65535, 65536, 70000]) {
    it(`a ${size}-byte frame split in two at every offset (sampled for large ones) arrives whole`, () => {
      const payload = patterned(size, size);
      const frame = clientFrame({ opcode: 0x2, payload });
      const step = frame.length > 4000 ? 997 : 1;
      const offsets = new Set<number>();
      for (let k = 1; k < frame.length; k += step) offsets.add(k);
      for (let k = 1; k <= 20; k++) offsets.add(Math.max(1, frame.length - k));
      for (let k = 1; k <= 20; k++) offsets.add(Math.min(frame.length - 1, k));
      for (const k of offsets) {
        for (const separate of [true, false]) {
          // The protocol unmasks in place: every run gets its own copy of the frame.
          const parts = splitAt(Buffer.from(frame), [k]);
          const { p, kept } = keeper();
          for (const chunk of separate ? own(parts) : parts) p.receive(chunk);
          assert.equal(kept.views.length, 1, `split at ${k}`);
          assert.ok(kept.views[0][1].equals(payload), `split at ${k}`);
        }
      }
    });
  }

  it('a 3000-byte frame fed one byte at a time arrives whole', () => {
    const payload = patterned(3000, 5);
    const { p, kept } = keeper();
    const frame = clientFrame({ opcode: 0x2, payload });
    for (let i = 0; i < frame.length; i++) p.receive(Buffer.from(frame.subarray(i, i + 1)));
    assert.ok(kept.views[0][1].equals(payload));
  });

  it('property: any messages, fragments, pings and cuts arrive whole, and nothing handed on changes', () => {
    const size = fc.oneof(
      { weight: 3, arbitrary: fc.nat({ max: 200 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1000, max: 20000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 60000, max: 70000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 130000, max: 300000 }) },
    );
    const item = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('message' as const),
          sizes: fc.array(size, { minLength: 1, maxLength: 3 }),
          seed: fc.nat(200),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('ping' as const),
          sizes: fc.constant([17]),
          seed: fc.nat(200),
        }),
      },
    );
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        // Cuts a few bytes before the end of a frame: the rest fits in the room of the frame's header.
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 14 })), { maxLength: 3 }),
        fc.boolean(),
        (items, cutPicks, tailCuts, separate) => {
          const frames: Buffer[] = [];
          const expected: Array<[string, Buffer]> = [];
          for (const it of items) {
            if (it.kind === 'ping') {
              const data = patterned(17, it.seed);
              frames.push(clientFrame({ opcode: 0x9, payload: data }));
              expected.push(['ping', data]);
              continue;
            }
            // A message of one or more frames (fragments).
            const parts = it.sizes.map((n, i) => patterned(n, it.seed + i));
            parts.forEach((part, i) => {
              const opcode = i === 0 ? 0x2 : 0x0;
              frames.push(clientFrame({ opcode, payload: part, fin: i === parts.length - 1 }));
            });
            expected.push(['binary', Buffer.concat(parts)]);
          }
          const bytes = Buffer.concat(frames);
          const cuts = cutPicks.map((c) => c % (bytes.length + 1));
          const ends: number[] = [];
          let end = 0;
          for (const f of frames) ends.push((end += f.length));
          for (const [pick, k] of tailCuts) cuts.push(ends[pick % ends.length] - k);
          // Often a cut at each 64 KiB, as a socket reads.
          if (separate) for (let c = 65536; c < bytes.length; c += 65536) cuts.push(c);
          const chunks = splitAt(bytes, cuts);
          const { p, kept } = keeper();
          for (const chunk of separate ? own(chunks) : chunks) p.receive(chunk);
          assert.deepEqual(kept.errors, []);
          assert.deepEqual(
            kept.copies.map(([kind, data]) => [kind, data.length]),
            expected.map(([kind, data]) => [kind, data.length]),
          );
          kept.copies.forEach(([, data], i) => {
            assert.ok(data.equals(expected[i][1]), `item ${i}`);
          });
          assertUntouched(kept);
        },
      ),
      { numRuns: 150 },
    );
  });
});
