// Fragmentation (RFC 6455 §5.4), the message size limit and UTF-8 validity of text (§8.1), checked
// through a Protocol: error and close code reported, Close frame queued, and how early it happens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageAssembler } from '../../src/protocol/message-assembler.js';
import { bytewise, clientFrame, expectFailure, open, rawFrame } from './helpers.js';

const KOSME = Buffer.from('κόσμε');

describe('fragmentation', () => {
  it('joins a text message sent in three fragments', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'fra', fin: false }));
    r.p.receive(clientFrame({ opcode: 0x0, payload: 'gme', fin: false }));
    assert.deepEqual(r.events, []);
    r.p.receive(clientFrame({ opcode: 0x0, payload: 'nts' }));
    assert.deepEqual(r.events, [['message', Buffer.from('fragments'), false, false]]);
  });

  it('joins a binary message with empty fragments', () => {
    const r = open({ role: 'client' });
    r.p.receive(rawFrame({ opcode: 0x2, fin: false }));
    r.p.receive(rawFrame({ opcode: 0x0, payload: Buffer.from([1, 2]), fin: false }));
    r.p.receive(rawFrame({ opcode: 0x0, fin: false }));
    r.p.receive(rawFrame({ opcode: 0x0, payload: Buffer.from([3]) }));
    assert.deepEqual(r.events, [['message', Buffer.from([1, 2, 3]), true, false]]);
  });

  it('refuses a continuation frame with no message started (1002)', () => {
    expectFailure(clientFrame({ opcode: 0x0, payload: 'x' }), {
      role: 'server',
      code: 'WS_ERR_UNEXPECTED_CONTINUATION',
      closeCode: 1002,
    });
    // Nor right after a message ended.
    expectFailure(
      [clientFrame({ opcode: 0x1, payload: 'done' }), clientFrame({ opcode: 0x0, payload: 'x' })],
      {
        role: 'server',
        code: 'WS_ERR_UNEXPECTED_CONTINUATION',
        closeCode: 1002,
      },
    );
  });

  for (const opcode of [0x1, 0x2]) {
    it(`refuses a new ${opcode === 1 ? 'text' : 'binary'} frame inside a fragmented message (1002)`, () => {
      const r = expectFailure(
        [clientFrame({ opcode: 0x2, payload: 'a', fin: false }), clientFrame({ opcode, payload: 'b' })],
        { role: 'server', code: 'WS_ERR_EXPECTED_CONTINUATION', closeCode: 1002 },
      );
      assert.deepEqual(
        r.events.filter((e) => e[0] === 'message'),
        [],
      );
    });
  }

  it('accepts control frames between fragments', () => {
    const r = open({ role: 'server' });
    r.p.receive(
      Buffer.concat([
        clientFrame({ opcode: 0x1, payload: 'Hel', fin: false }),
        clientFrame({ opcode: 0x9, payload: 'p1' }),
        clientFrame({ opcode: 0x0, payload: 'l', fin: false }),
        clientFrame({ opcode: 0xa, payload: 'p2' }),
        clientFrame({ opcode: 0x0, payload: 'o' }),
      ]),
    );
    assert.deepEqual(r.events, [
      ['ping', Buffer.from('p1')],
      ['pong', Buffer.from('p2')],
      ['message', Buffer.from('Hello'), false, false],
    ]);
    assert.equal(r.p.error, null);
  });
});

describe('maxPayload', () => {
  it('accepts a message of exactly maxPayload bytes', () => {
    const r = open({ role: 'server', maxPayload: 10 });
    r.p.receive(clientFrame({ opcode: 0x2, payload: Buffer.alloc(10, 1) }));
    r.p.receive(clientFrame({ opcode: 0x2, payload: Buffer.alloc(4), fin: false }));
    r.p.receive(clientFrame({ opcode: 0x0, payload: Buffer.alloc(6) }));
    assert.equal(r.events.length, 2);
    assert.equal(r.p.error, null);
  });

  it('refuses a larger frame with 1009, at header time, before the payload arrives', () => {
    const frame = clientFrame({ opcode: 0x2, payload: Buffer.alloc(11) });
    // Only the 6-byte header (2 + mask key) is fed.
    expectFailure(frame.subarray(0, 6), {
      role: 'server',
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      closeCode: 1009,
      options: { maxPayload: 10 },
    });
  });

  it('refuses a 64-bit length header alone, without waiting for 5 GB', () => {
    const header = Buffer.from([0x82, 0x7f, 0, 0, 0, 1, 0x40, 0, 0, 0]);
    expectFailure(header, { role: 'client', code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009 });
  });

  it('counts the fragments already received: the header that goes over fails', () => {
    const second = clientFrame({ opcode: 0x0, payload: Buffer.alloc(5) });
    expectFailure([clientFrame({ opcode: 0x1, payload: 'abcdef', fin: false }), second.subarray(0, 6)], {
      role: 'server',
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      closeCode: 1009,
      options: { maxPayload: 10 },
    });
  });

  it('maxPayload 0 means no limit, and can be changed later', () => {
    const r = open({ role: 'server', maxPayload: 0 });
    r.p.receive(clientFrame({ opcode: 0x2, payload: Buffer.alloc(70000) }));
    assert.equal(r.events.length, 1);
    r.p.maxPayload = 5;
    r.p.receive(clientFrame({ opcode: 0x2, payload: Buffer.alloc(6) }));
    assert.deepEqual(r.events[1], ['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]);
  });
});

describe('UTF-8 of text messages', () => {
  const invalid = { role: 'server' as const, code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 };

  it('refuses invalid UTF-8 in a single frame (1007)', () => {
    expectFailure(clientFrame({ opcode: 0x1, payload: Buffer.from([0x61, 0xc0, 0x80]) }), invalid);
    expectFailure(clientFrame({ opcode: 0x1, payload: Buffer.from([0xed, 0xa0, 0x80]) }), invalid);
  });

  it('refuses a text message that ends inside a sequence (1007)', () => {
    expectFailure(clientFrame({ opcode: 0x1, payload: Buffer.from([0x61, 0xe2, 0x82]) }), invalid);
    expectFailure(
      [
        clientFrame({ opcode: 0x1, payload: Buffer.from([0x61, 0xe2]), fin: false }),
        clientFrame({ opcode: 0x0, payload: Buffer.from([0x82]) }),
      ],
      invalid,
    );
    expectFailure(
      [
        clientFrame({ opcode: 0x1, payload: Buffer.from([0xf0, 0x9f]), fin: false }),
        clientFrame({ opcode: 0x0 }),
      ],
      invalid,
    );
  });

  it('accepts a code point split across fragments', () => {
    const euro = Buffer.from('€'); // E2 82 AC
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x1, payload: euro.subarray(0, 1), fin: false }));
    r.p.receive(clientFrame({ opcode: 0x0, payload: euro.subarray(1, 2), fin: false }));
    r.p.receive(clientFrame({ opcode: 0x0, payload: euro.subarray(2) }));
    assert.deepEqual(r.events, [['message', euro, false, false]]);
  });

  it('Autobahn 6.4.1: fails on the second of three fragments, before the message ends', () => {
    const r = expectFailure(
      [
        clientFrame({ opcode: 0x1, payload: KOSME, fin: false }),
        clientFrame({ opcode: 0x0, payload: Buffer.from([0xf4, 0x90, 0x80, 0x80]), fin: false }),
      ],
      invalid,
    );
    assert.equal(r.events.length, 1);
  });

  it('Autobahn 6.4.2: "κόσμε" + F4 is a valid prefix; the fragment with 0x90 fails', () => {
    const r = open({ role: 'server' });
    r.p.receive(
      clientFrame({ opcode: 0x1, payload: Buffer.concat([KOSME, Buffer.from([0xf4])]), fin: false }),
    );
    assert.deepEqual(r.events, [], 'F4 may start U+100000..U+10FFFF: no error yet');
    r.p.receive(clientFrame({ opcode: 0x0, payload: Buffer.from([0x90]), fin: false }));
    assert.deepEqual(r.events, [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
  });

  it('fails on the chunk with the bad byte inside one frame (Autobahn 6.4.3/6.4.4)', () => {
    const payload = Buffer.concat([KOSME, Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('edited')]);
    const frame = clientFrame({ opcode: 0x1, payload });
    const header = 6;
    const bad = header + KOSME.length + 1; // offset of 0x90
    const r = open({ role: 'server' });
    r.p.receive(frame.subarray(0, bad));
    assert.deepEqual(r.events, []);
    r.p.receive(frame.subarray(bad, bad + 1));
    assert.deepEqual(r.events, [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    r.p.receive(frame.subarray(bad + 1));
    assert.equal(r.events.length, 1);
  });

  it('fails fast when fed one byte at a time', () => {
    const payload = Buffer.concat([Buffer.from('ok'), Buffer.from([0xe0, 0x80]), Buffer.from('tail')]);
    const frame = clientFrame({ opcode: 0x1, payload });
    const r = open({ role: 'server' });
    const bytes = bytewise(frame);
    const badAt = 6 + 3; // the 0x80 after E0
    for (let i = 0; i < bytes.length; i++) {
      r.p.receive(bytes[i]);
      assert.equal(r.events.length, i < badAt ? 0 : 1, `after byte ${i}`);
    }
    assert.deepEqual(r.events, [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
  });

  it('does not validate binary messages', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x2, payload: Buffer.from([0xff, 0xc0]) }));
    assert.deepEqual(r.events, [['message', Buffer.from([0xff, 0xc0]), true, false]]);
  });

  it('leaves compressed messages to be validated after inflating', () => {
    const r = open({ role: 'server', allowRsv1: true });
    r.p.receive(clientFrame({ opcode: 0x1, payload: Buffer.from([0xff]), rsv1: true }));
    assert.deepEqual(r.events, [['message', Buffer.from([0xff]), false, true]]);
  });
});

describe('MessageAssembler', () => {
  it('validateUtf8: false passes invalid text on', () => {
    const messages: Buffer[] = [];
    const a = new MessageAssembler(
      { onMessage: (d) => messages.push(d) },
      { maxPayload: 0, validateUtf8: false },
    );
    a.onDataFrame(0x1, false, false, 1);
    a.onData(Buffer.from([0xff]), true);
    assert.equal(a.midMessage, true);
    a.onDataFrame(0x0, true, false, 1);
    a.onData(Buffer.from([0xfe]), true);
    assert.equal(a.midMessage, false);
    assert.deepEqual(messages, [Buffer.from([0xff, 0xfe])]);
  });
});

describe('MessageAssembler: gathered pieces', () => {
  function assembler(maxPayload = 0) {
    const messages: Buffer[] = [];
    const a = new MessageAssembler({ onMessage: (d) => messages.push(d) }, { maxPayload });
    return { a, messages };
  }

  it('joins consecutive views of one buffer by widening a view: no copy', () => {
    const { a, messages } = assembler();
    const frame = Buffer.from('0123456789');
    a.onDataFrame(0x2, true, false, 10);
    a.onData(frame.subarray(0, 4), false, true);
    a.onData(frame.subarray(4, 9), false, true);
    a.onData(frame.subarray(9), true, true);
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0], frame);
    assert.equal(messages[0].buffer, frame.buffer);
    assert.equal(messages[0].byteOffset, frame.byteOffset);
  });

  it('joins gathered frames, a frame handed on in place and empty pieces into one message', () => {
    const { a, messages } = assembler();
    const one = Buffer.from('gathered-one|');
    const two = Buffer.from('in-place|');
    const three = Buffer.from('gathered-three');
    a.onDataFrame(0x2, false, false, one.length);
    a.onData(one.subarray(0, 5), false, true);
    a.onData(one.subarray(5), true, true);
    a.onDataFrame(0x0, false, false, 0);
    a.onData(Buffer.alloc(0), true, false);
    a.onDataFrame(0x0, false, false, two.length);
    a.onData(two, true, false);
    a.onDataFrame(0x0, true, false, three.length);
    a.onData(three.subarray(0, 3), false, true);
    a.onData(three.subarray(3, 3), false, true);
    a.onData(three.subarray(3), true, true);
    assert.deepEqual(messages, [Buffer.from('gathered-one|in-place|gathered-three')]);
  });

  it('counts the gathered bytes against maxPayload', () => {
    const { a } = assembler(10);
    const frame = Buffer.from('0123456789');
    a.onDataFrame(0x2, false, false, 8);
    a.onData(frame.subarray(0, 4), false, true);
    a.onData(frame.subarray(4, 8), true, true);
    assert.throws(
      () => a.onDataFrame(0x0, true, false, 3),
      (err: unknown) => err instanceof Error && (err as { closeCode?: number }).closeCode === 1009,
    );
  });

  it('validates gathered text as it arrives and fails on the bad piece (1007)', () => {
    const { a } = assembler();
    const text = Buffer.concat([Buffer.from('ok'), Buffer.from([0xc0, 0x80]), Buffer.from('more')]);
    a.onDataFrame(0x1, true, false, text.length);
    a.onData(text.subarray(0, 2), false, true);
    assert.throws(
      () => a.onData(text.subarray(2, 5), false, true),
      (err: unknown) => (err as { closeCode?: number }).closeCode === 1007,
    );
  });
});
