// The frame header rules of RFC 6455 §5.2 / §5.5, each checked through a Protocol: the error code and
// close code reported through onProtocolError, and the Close frame queued. Plus the FrameParser's own
// contract (pieces, pause/resume, stop).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FrameHandler, FrameParser, WebSocketError } from '../../src/protocol/index.js';
import { bytewise, clientFrame, expectFailure, open, rawFrame } from './helpers.js';

describe('frame header rules', () => {
  it('refuses a 64-bit length with the most significant bit set (1002)', () => {
    const bytes = Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    expectFailure(bytes, { role: 'client', code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', closeCode: 1002 });
    // Also when the header arrives a byte at a time.
    expectFailure(bytewise(bytes), {
      role: 'client',
      code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
      closeCode: 1002,
    });
  });

  it('refuses a 64-bit length over 2^53 - 1 bytes as too big (1009)', () => {
    const bytes = Buffer.from([0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0]);
    expectFailure(bytes, {
      role: 'client',
      code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
      closeCode: 1009,
      options: { maxPayload: 0 },
    });
  });

  it('refuses an unmasked frame sent to a server (1002)', () => {
    expectFailure(rawFrame({ opcode: 0x1, payload: 'hi' }), {
      role: 'server',
      code: 'WS_ERR_EXPECTED_MASK',
      closeCode: 1002,
    });
  });

  it('refuses a masked frame sent to a client (1002)', () => {
    expectFailure(clientFrame({ opcode: 0x1, payload: 'hi' }), {
      role: 'client',
      code: 'WS_ERR_UNEXPECTED_MASK',
      closeCode: 1002,
    });
  });

  it('refuses RSV1 when no extension was negotiated (1002)', () => {
    expectFailure(clientFrame({ opcode: 0x1, payload: 'hi', rsv1: true }), {
      role: 'server',
      code: 'WS_ERR_UNEXPECTED_RSV_1',
      closeCode: 1002,
    });
  });

  for (const bit of ['rsv2', 'rsv3'] as const) {
    it(`refuses ${bit.toUpperCase()} (1002), even with allowRsv1`, () => {
      for (const allowRsv1 of [false, true]) {
        expectFailure(clientFrame({ opcode: 0x2, payload: 'hi', [bit]: true }), {
          role: 'server',
          code: 'WS_ERR_UNEXPECTED_RSV_2_3',
          closeCode: 1002,
          options: { allowRsv1 },
        });
      }
    });
  }

  it('accepts RSV1 on the first frame of a message with allowRsv1, reported as compressed', () => {
    const r = open({ role: 'server', allowRsv1: true });
    r.p.receive(clientFrame({ opcode: 0x2, payload: 'abc', rsv1: true }));
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'de', rsv1: true, fin: false }));
    r.p.receive(clientFrame({ opcode: 0x0, payload: 'f' }));
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'plain' }));
    assert.deepEqual(r.events, [
      ['message', Buffer.from('abc'), true, true],
      ['message', Buffer.from('def'), false, true],
      ['message', Buffer.from('plain'), false, false],
    ]);
  });

  it('allowRsv1 can be switched on after construction (negotiation)', () => {
    const r = open({ role: 'server' });
    r.p.allowRsv1 = true;
    r.p.receive(clientFrame({ opcode: 0x2, payload: 'abc', rsv1: true }));
    assert.deepEqual(r.events, [['message', Buffer.from('abc'), true, true]]);
  });

  it('refuses RSV1 on a continuation frame, even with allowRsv1 (1002)', () => {
    expectFailure(
      [
        clientFrame({ opcode: 0x1, payload: 'a', rsv1: true, fin: false }),
        clientFrame({ opcode: 0x0, payload: 'b', rsv1: true }),
      ],
      { role: 'server', code: 'WS_ERR_UNEXPECTED_RSV_1', closeCode: 1002, options: { allowRsv1: true } },
    );
  });

  for (const opcode of [0x8, 0x9, 0xa]) {
    it(`refuses RSV1 on a control frame (opcode 0x${opcode.toString(16)}), even with allowRsv1 (1002)`, () => {
      expectFailure(
        clientFrame({ opcode, payload: opcode === 0x8 ? Buffer.from([3, 0xe8]) : '', rsv1: true }),
        {
          role: 'server',
          code: 'WS_ERR_UNEXPECTED_RSV_1',
          closeCode: 1002,
          options: { allowRsv1: true },
        },
      );
    });
  }

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`refuses reserved opcode 0x${opcode.toString(16)} (1002)`, () => {
      expectFailure(clientFrame({ opcode, payload: 'x' }), {
        role: 'server',
        code: 'WS_ERR_INVALID_OPCODE',
        closeCode: 1002,
      });
      // Also in the middle of a fragmented message.
      expectFailure(
        [rawFrame({ opcode: 0x1, payload: 'a', fin: false }), rawFrame({ opcode, payload: 'x' })],
        {
          role: 'client',
          code: 'WS_ERR_INVALID_OPCODE',
          closeCode: 1002,
        },
      );
    });
  }

  for (const opcode of [0x8, 0x9, 0xa]) {
    it(`refuses a control frame (0x${opcode.toString(16)}) without FIN (1002)`, () => {
      expectFailure(clientFrame({ opcode, fin: false }), {
        role: 'server',
        code: 'WS_ERR_EXPECTED_FIN',
        closeCode: 1002,
      });
    });

    it(`refuses a control frame (0x${opcode.toString(16)}) over 125 bytes (1002)`, () => {
      const payload = Buffer.alloc(126, 0x61);
      if (opcode === 0x8) payload.writeUInt16BE(1000, 0);
      expectFailure(clientFrame({ opcode, payload }), {
        role: 'server',
        code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
        closeCode: 1002,
      });
    });
  }

  it('checks the control length at header time, before the payload arrives', () => {
    const frame = clientFrame({ opcode: 0x9, payload: Buffer.alloc(200) });
    expectFailure(frame.subarray(0, 8), {
      role: 'server',
      code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
      closeCode: 1002,
    });
  });

  it('accepts a 125-byte control frame', () => {
    const payload = Buffer.alloc(125, 0x62);
    const r = open({ role: 'server' });
    for (const b of bytewise(clientFrame({ opcode: 0x9, payload }))) r.p.receive(b);
    assert.deepEqual(r.events, [['ping', payload]]);
  });

  it('accepts a non-minimal length encoding (ws does too)', () => {
    const r = open({ role: 'client' });
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'short', encoding: 64 }));
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'short', encoding: 16 }));
    assert.deepEqual(r.events, [
      ['message', Buffer.from('short'), false, false],
      ['message', Buffer.from('short'), false, false],
    ]);
  });
});

describe('FrameParser', () => {
  type Call = [string, ...unknown[]];
  function parser(isServer: boolean) {
    const calls: Call[] = [];
    const handler: FrameHandler = {
      onDataFrame: (opcode, fin, rsv1, length) => calls.push(['frame', opcode, fin, rsv1, length]),
      onData: (piece, last) => calls.push(['data', Buffer.from(piece).toString(), last]),
      onControlFrame: (opcode, payload) => calls.push(['control', opcode, Buffer.from(payload).toString()]),
    };
    return { calls, parser: new FrameParser(handler, { isServer }) };
  }

  it('hands payloads on in the pieces they arrive, unmasked', () => {
    const { calls, parser: fp } = parser(true);
    const frame = clientFrame({ opcode: 0x1, payload: 'abcdef' });
    fp.push(frame.subarray(0, 9)); // header (6) + 'abc'
    assert.equal(fp.midFrame, true);
    fp.push(frame.subarray(9));
    assert.equal(fp.midFrame, false);
    assert.deepEqual(calls, [
      ['frame', 1, true, false, 6],
      ['data', 'abc', false],
      ['data', 'def', true],
    ]);
  });

  it('gives an empty frame one empty last piece, and gathers split control payloads', () => {
    const { calls, parser: fp } = parser(false);
    const bytes = Buffer.concat([rawFrame({ opcode: 0x2 }), rawFrame({ opcode: 0x9, payload: 'ping!' })]);
    for (const b of bytewise(bytes)) fp.push(b);
    assert.deepEqual(calls, [
      ['frame', 2, true, false, 0],
      ['data', '', true],
      ['control', 9, 'ping!'],
    ]);
  });

  it('throws a WebSocketError with the close code on a violation', () => {
    const { parser: fp } = parser(true);
    assert.throws(
      () => fp.push(rawFrame({ opcode: 0x1, payload: 'x' })),
      (err: unknown) =>
        err instanceof WebSocketError && err.code === 'WS_ERR_EXPECTED_MASK' && err.closeCode === 1002,
    );
  });

  it('keeps input fed while paused, and parses it on resume', () => {
    const { calls, parser: fp } = parser(false);
    const bytes = Buffer.concat([
      rawFrame({ opcode: 0x1, payload: 'one' }),
      rawFrame({ opcode: 0x1, payload: 'two' }),
    ]);
    fp.pause();
    assert.equal(fp.isPaused, true);
    fp.push(bytes);
    assert.deepEqual(calls, []);
    fp.resume();
    assert.equal(fp.isPaused, false);
    assert.deepEqual(
      calls.filter((c) => c[0] === 'data'),
      [
        ['data', 'one', true],
        ['data', 'two', true],
      ],
    );
  });

  it('does not keep the last chunk alive through the masker’s cached view', () => {
    const { calls, parser: fp } = parser(true);
    fp.push(clientFrame({ opcode: 0x2, payload: Buffer.alloc(1000) }));
    assert.equal(calls.length, 2);
    const masker = (fp as unknown as { masker: { arrayBuffer: unknown; words: unknown } }).masker;
    assert.equal(masker.arrayBuffer, null);
    assert.equal(masker.words, null);
  });

  it('ignores everything after stop()', () => {
    const { calls, parser: fp } = parser(false);
    fp.stop();
    fp.push(rawFrame({ opcode: 0x1, payload: 'x' }));
    fp.push(Buffer.from([0xff, 0xff]));
    assert.deepEqual(calls, []);
  });
});
