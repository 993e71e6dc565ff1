// Close frames (RFC 6455 §5.5.1, §7.4): payload rules on receipt, the codes that may appear on the
// wire, and building a Close payload to send.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeClosePayload,
  encodeClosePayload,
  isValidCloseCode,
  MAX_CLOSE_REASON_BYTES,
  WebSocketError,
} from '../../src/protocol/index.js';
import { clientFrame, closeCodeOf, decodeFrames, expectFailure, open } from './helpers.js';

const INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];

function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const r = Buffer.from(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

function isArgumentError(err: unknown): boolean {
  return err instanceof WebSocketError && err.code === 'WS_ERR_INVALID_ARGUMENT';
}

describe('received Close frames', () => {
  it('refuses a 1-byte payload (1002)', () => {
    expectFailure(clientFrame({ opcode: 0x8, payload: Buffer.from([0x03]) }), {
      role: 'server',
      code: 'WS_ERR_INVALID_CLOSE_PAYLOAD',
      closeCode: 1002,
    });
  });

  for (const code of INVALID_CODES) {
    it(`refuses close code ${code} (1002)`, () => {
      const r = expectFailure(clientFrame({ opcode: 0x8, payload: closePayload(code) }), {
        role: 'server',
        code: 'WS_ERR_INVALID_CLOSE_CODE',
        closeCode: 1002,
      });
      assert.equal(r.p.closeReceived, false);
      assert.equal(r.p.closeCode, 1006);
    });
  }

  for (const code of VALID_CODES) {
    it(`accepts close code ${code} and echoes it`, () => {
      const r = open({ role: 'server' });
      r.p.receive(clientFrame({ opcode: 0x8, payload: closePayload(code, 'why') }));
      assert.deepEqual(r.events, [['close', code, Buffer.from('why')]]);
      const frames = decodeFrames(r.p.takeOutput());
      assert.equal(frames.length, 1);
      assert.equal(closeCodeOf(frames[0]), code);
      assert.equal(r.p.closeCode, code);
      assert.deepEqual(r.p.closeReason, Buffer.from('why'));
    });
  }

  it('refuses a reason that is not UTF-8 (1007)', () => {
    expectFailure(
      clientFrame({ opcode: 0x8, payload: closePayload(1000, Buffer.from([0x6f, 0x6b, 0xff])) }),
      {
        role: 'server',
        code: 'WS_ERR_INVALID_UTF8',
        closeCode: 1007,
      },
    );
    expectFailure(
      clientFrame({ opcode: 0x8, payload: closePayload(1000, Buffer.from([0xed, 0xa0, 0x80])) }),
      {
        role: 'server',
        code: 'WS_ERR_INVALID_UTF8',
        closeCode: 1007,
      },
    );
  });

  it('accepts a 123-byte UTF-8 reason', () => {
    const reason = Buffer.from(`${'é'.repeat(61)}!`);
    assert.equal(reason.length, 123);
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x8, payload: closePayload(4000, reason) }));
    assert.deepEqual(r.events, [['close', 4000, reason]]);
  });
});

describe('isValidCloseCode', () => {
  it('matches RFC 6455 §7.4 and the IANA registry', () => {
    for (const code of INVALID_CODES) assert.equal(isValidCloseCode(code), false, String(code));
    for (const code of VALID_CODES) assert.equal(isValidCloseCode(code), true, String(code));
  });
});

describe('decodeClosePayload', () => {
  it('an empty payload is code 1005 with no reason', () => {
    assert.deepEqual(decodeClosePayload(Buffer.alloc(0)), { code: 1005, reason: Buffer.alloc(0) });
  });

  it('splits code and reason', () => {
    assert.deepEqual(decodeClosePayload(closePayload(1001, 'bye')), {
      code: 1001,
      reason: Buffer.from('bye'),
    });
  });
});

describe('encodeClosePayload', () => {
  it('no code: an empty payload; a reason without a code closes with 1000 (WHATWG close())', () => {
    assert.equal(encodeClosePayload().length, 0);
    assert.equal(encodeClosePayload(undefined, '').length, 0);
    assert.equal(encodeClosePayload(undefined, Buffer.alloc(0)).length, 0);
    assert.deepEqual(encodeClosePayload(undefined, 'why'), closePayload(1000, 'why'));
    assert.deepEqual(encodeClosePayload(undefined, Buffer.from('€')), closePayload(1000, '€'));
    assert.throws(() => encodeClosePayload(undefined, 'x'.repeat(124)), isArgumentError);
  });

  it('code and reason, from a string or a Buffer', () => {
    assert.deepEqual(encodeClosePayload(1000, 'bye'), closePayload(1000, 'bye'));
    assert.deepEqual(encodeClosePayload(4001, Buffer.from('€')), closePayload(4001, '€'));
    assert.deepEqual(encodeClosePayload(3000), closePayload(3000));
  });

  it('refuses codes that may not be sent', () => {
    for (const code of [...INVALID_CODES, 1000.5, Number.NaN]) {
      assert.throws(() => encodeClosePayload(code), isArgumentError, String(code));
    }
  });

  it('refuses a reason over 123 bytes, counted in UTF-8 bytes', () => {
    assert.equal(MAX_CLOSE_REASON_BYTES, 123);
    assert.equal(encodeClosePayload(1000, 'a'.repeat(123)).length, 125);
    assert.throws(() => encodeClosePayload(1000, 'a'.repeat(124)), isArgumentError);
    assert.throws(() => encodeClosePayload(1000, 'é'.repeat(62)), isArgumentError); // 124 bytes
    assert.throws(() => encodeClosePayload(1000, Buffer.alloc(124)), isArgumentError);
  });
});
