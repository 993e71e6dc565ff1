// Property tests of the whole core: what one Protocol sends, another receives, however the messages
// are fragmented and the bytes are cut; random or corrupted bytes never make receive() throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Protocol, type ProtocolOptions } from '../../src/protocol/index.js';
import { bytewise, decodeFrames, type Event, recorder, splitAt } from './helpers.js';

type Control = { kind: 'ping' | 'pong'; data: Uint8Array };
type Message = {
  kind: 'message';
  binary: boolean;
  data: Uint8Array;
  /** Send as a string (text, in one send) rather than as Buffers. */
  asString: boolean;
  text: string;
  /** Where to cut the message into parts sent with fin: false (empty parts allowed). */
  cuts: number[];
  /** Control frames sent between the parts: [before part index, control]. */
  between: Array<[number, Control]>;
};
type Action = Control | Message;

const control: fc.Arbitrary<Control> = fc.record({
  kind: fc.constantFrom('ping' as const, 'pong' as const),
  data: fc.uint8Array({ maxLength: 125 }),
});

const text = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 200, maxLength: 3000 }) },
);

const binary = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65530, max: 70000 }).map((n) => patterned(n)) },
);

function patterned(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8)) & 0xff;
  return b;
}

const message: fc.Arbitrary<Message> = fc
  .record({
    binary: fc.boolean(),
    text,
    bytes: binary,
    asString: fc.boolean(),
    cuts: fc.array(fc.nat(), { maxLength: 5 }),
    between: fc.array(fc.tuple(fc.nat(), control), { maxLength: 3 }),
  })
  .map(({ binary, text, bytes, asString, cuts, between }) => {
    const data = binary ? bytes : new Uint8Array(Buffer.from(text));
    const parts = asString && !binary ? 1 : cuts.length + 1;
    return {
      kind: 'message' as const,
      binary,
      data,
      text,
      asString: asString && !binary,
      cuts: cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b),
      between: between.map(([at, c]) => [at % parts, c] as [number, Control]),
    };
  });

const scenario = fc.record({
  actions: fc.array(fc.oneof({ weight: 3, arbitrary: message }, { weight: 1, arbitrary: control }), {
    maxLength: 8,
  }),
  fragmentSize: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 64 }),
    fc.integer({ min: 100, max: 20000 }),
  ),
  close: fc.option(
    fc.record({ code: fc.constantFrom(1000, 1001, 1011, 3000, 4999), reason: fc.string({ maxLength: 30 }) }),
  ),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
  bytewise: fc.boolean(),
  pauses: fc.array(fc.boolean(), { maxLength: 12 }),
});

function sendControl(p: Protocol, c: Control) {
  if (c.kind === 'ping') p.ping(Buffer.from(c.data));
  else p.pong(Buffer.from(c.data));
}

/** Queues the actions on `sender`; returns the events the receiver must report, in order. */
function perform(sender: Protocol, actions: Action[]): { events: Event[]; pings: Buffer[] } {
  const events: Event[] = [];
  const pings: Buffer[] = [];
  const control = (c: Control) => {
    sendControl(sender, c);
    events.push([c.kind, Buffer.from(c.data)]);
    if (c.kind === 'ping') pings.push(Buffer.from(c.data));
  };
  for (const a of actions) {
    if (a.kind !== 'message') {
      control(a);
      continue;
    }
    const data = Buffer.from(a.data);
    const bounds = [0, ...a.cuts, data.length];
    const parts = a.asString ? 1 : bounds.length - 1;
    for (let i = 0; i < parts; i++) {
      for (const [at, c] of a.between) if (at === i) control(c);
      const fin = i === parts - 1;
      if (a.asString) sender.send(a.text, false);
      else sender.send(data.subarray(bounds[i], bounds[i + 1]), a.binary, { fin });
    }
    events.push(['message', data, a.binary, false]);
  }
  return { events, pings };
}

function chunks(bytes: Buffer, cuts: number[], byteAtATime: boolean): Buffer[] {
  // One byte at a time for all but the rare 64 KiB messages, to keep the run short.
  if (byteAtATime && bytes.length <= 16384) return bytewise(bytes);
  return splitAt(
    bytes,
    cuts.map((c) => c % (bytes.length + 1)),
  );
}

/** Sender → receiver → sender, checking the events on both sides. */
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function roundTrip(senderRole: 'client' | 'server', s: Scenario) {
  const receiverRole = senderRole === 'client' ? 'server' : 'client';
  const a = recorder();
  const sender = new Protocol(a.handler, { role: senderRole, fragmentSize: s.fragmentSize });
  const { events: expected, pings } = perform(sender, s.actions);
  if (s.close !== null) {
    sender.close(s.close.code, s.close.reason);
    expected.push(['close', s.close.code, Buffer.from(s.close.reason)]);
  }
  const wire = Buffer.concat(sender.takeOutput() ?? []);
  assert.ok(decodeFrames(wire).every((f) => f.masked === (senderRole === 'client')));

  // The receiver pauses on some messages and is resumed before some chunks: nothing may change.
  const b = recorder();
  const receiver = new Protocol(b.handler, { role: receiverRole } satisfies ProtocolOptions);
  let pauseIndex = 0;
  const onMessage = b.handler.onMessage;
  b.handler.onMessage = (data, isBinary, compressed) => {
    onMessage(data, isBinary, compressed);
    if (s.pauses[pauseIndex++ % Math.max(s.pauses.length, 1)]) receiver.pause();
  };
  let k = 0;
  for (const chunk of chunks(wire, s.cuts, s.bytewise)) {
    if (s.pauses[k++ % Math.max(s.pauses.length, 1)] === false) receiver.resume();
    receiver.receive(chunk);
  }
  while (receiver.isPaused) receiver.resume();
  assert.deepEqual(b.events, expected);
  assert.equal(receiver.error, null);

  // The receiver's answers: a Pong per Ping, then the Close echo (code and reason, as ws does).
  sender.receive(Buffer.concat(receiver.takeOutput() ?? []));
  const answers: Event[] = pings.map((p) => ['pong', p]);
  if (s.close !== null) answers.push(['close', s.close.code, Buffer.from(s.close.reason)]);
  assert.deepEqual(a.events, answers);
  if (s.close !== null) {
    assert.equal(sender.receiveEof(), true);
    assert.equal(receiver.receiveEof(), true);
  }
}

/** Feeds bytes to a fresh Protocol: receive() must not throw, and a failure must look like one. */
function feedsSafely(
  bytes: Buffer,
  role: 'client' | 'server',
  cuts: number[],
  options: Partial<ProtocolOptions>,
) {
  const r = recorder();
  const p = new Protocol(r.handler, { role, ...options });
  for (const chunk of chunks(bytes, cuts, false)) p.receive(chunk);
  const errors = r.events.filter((e) => e[0] === 'error');
  assert.ok(errors.length <= 1, 'at most one protocol error');
  const frames = decodeFrames(p.takeOutput());
  if (errors.length === 1) {
    assert.equal(r.events[r.events.length - 1][0], 'error', 'nothing is reported after the error');
    const close = frames[frames.length - 1];
    assert.equal(close.opcode, 0x8);
    assert.equal(close.payload.readUInt16BE(0), p.error?.closeCode);
  }
  for (const f of frames) assert.equal(f.masked, role === 'client');
  p.receiveEof();
}

describe('properties', () => {
  it('client → server → client round trip, any fragmentation and chunking', () => {
    fc.assert(
      fc.property(scenario, (s) => roundTrip('client', s)),
      { numRuns: 150 },
    );
  });

  it('server → client → server round trip, any fragmentation and chunking', () => {
    fc.assert(
      fc.property(scenario, (s) => roundTrip('server', s)),
      { numRuns: 150 },
    );
  });

  it('random bytes never make receive() throw', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('client' as const, 'server' as const),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.record({ allowRsv1: fc.boolean(), maxPayload: fc.constantFrom(0, 1, 10, 1000) }),
        (data, role, cuts, options) => feedsSafely(Buffer.from(data), role, cuts, options),
      ),
      { numRuns: 1000 },
    );
  });

  it('corrupted valid streams never make receive() throw', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.constantFrom('client' as const, 'server' as const),
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.record({ allowRsv1: fc.boolean(), maxPayload: fc.constantFrom(0, 100, 100000) }),
        (s, senderRole, edits, options) => {
          const sender = new Protocol(recorder().handler, { role: senderRole, fragmentSize: s.fragmentSize });
          perform(sender, s.actions);
          let bytes = Buffer.concat(sender.takeOutput() ?? [Buffer.alloc(0)]);
          for (const [at, value, op] of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'set' && i < bytes.length) bytes[i] = value;
            else if (op === 'insert')
              bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
            else if (op === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
          }
          feedsSafely(bytes, senderRole === 'client' ? 'server' : 'client', s.cuts, options);
        },
      ),
      { numRuns: 300 },
    );
  });
});
