// The examples of RFC 6455 §1.3 and §5.7, byte for byte, parsed and serialized.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptKey, Opcode, serializeFrame } from '../../src/protocol/index.js';
import { bytewise, KEY, open } from './helpers.js';

const HELLO = Buffer.from('Hello');
const UNMASKED_HELLO = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const MASKED_HELLO = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const FRAGMENTED_HEL_LO = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
const UNMASKED_PING = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const MASKED_PONG = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

const BIN_256 = pattern(256);
const BIN_64K = pattern(65536);
const HEADER_256 = [0x82, 0x7e, 0x01, 0x00];
const HEADER_64K = [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];

/** Parses `bytes` whole and one byte at a time; both must give `expected`. */
function parses(role: 'server' | 'client', bytes: number[] | Buffer, expected: unknown[]) {
  const whole = open({ role });
  whole.p.receive(Buffer.from(bytes));
  assert.deepEqual(whole.events, expected);
  const split = open({ role });
  for (const b of bytewise(Buffer.from(bytes))) split.p.receive(b);
  assert.deepEqual(split.events, expected);
}

function output(p: { takeOutput(): Buffer[] | null }): Buffer {
  return Buffer.concat(p.takeOutput() ?? []);
}

describe('RFC 6455 examples', () => {
  it('computes the Sec-WebSocket-Accept of §1.3', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  describe('parsing (§5.7)', () => {
    it('a single-frame unmasked text message "Hello" (client side)', () => {
      parses('client', UNMASKED_HELLO, [['message', HELLO, false, false]]);
    });

    it('a single-frame masked text message "Hello" (server side)', () => {
      parses('server', MASKED_HELLO, [['message', HELLO, false, false]]);
    });

    it('a fragmented unmasked text message "Hel" + "lo"', () => {
      parses('client', FRAGMENTED_HEL_LO, [['message', HELLO, false, false]]);
    });

    it('an unmasked Ping "Hello", answered with an unmasked Pong "Hello"', () => {
      const r = open({ role: 'client', generateMask: (m) => KEY.copy(m) });
      r.p.receive(Buffer.from(UNMASKED_PING));
      assert.deepEqual(r.events, [['ping', HELLO]]);
      // A client's Pong is masked: with the §5.7 key it is the §5.7 masked Pong.
      assert.deepEqual(output(r.p), Buffer.from(MASKED_PONG));
    });

    it('a masked Pong "Hello" (server side)', () => {
      parses('server', MASKED_PONG, [['pong', HELLO]]);
    });

    it('256 bytes of binary data in a single unmasked frame', () => {
      parses('client', Buffer.concat([Buffer.from(HEADER_256), BIN_256]), [
        ['message', BIN_256, true, false],
      ]);
    });

    it('64 KiB of binary data in a single unmasked frame', () => {
      const r = open({ role: 'client' });
      r.p.receive(Buffer.concat([Buffer.from(HEADER_64K), BIN_64K]));
      assert.deepEqual(r.events, [['message', BIN_64K, true, false]]);
      // Header split at every byte, payload in pieces.
      const s = open({ role: 'client' });
      for (const b of HEADER_64K) s.p.receive(Buffer.from([b]));
      for (let i = 0; i < BIN_64K.length; i += 1000) s.p.receive(Buffer.from(BIN_64K.subarray(i, i + 1000)));
      assert.deepEqual(s.events, [['message', BIN_64K, true, false]]);
    });
  });

  describe('serializing (§5.7)', () => {
    it('serializeFrame: unmasked and masked "Hello"', () => {
      assert.deepEqual(serializeFrame('Hello', { opcode: Opcode.Text }), Buffer.from(UNMASKED_HELLO));
      assert.deepEqual(
        serializeFrame('Hello', { opcode: Opcode.Text, mask: KEY }),
        Buffer.from(MASKED_HELLO),
      );
      assert.deepEqual(serializeFrame(HELLO, { opcode: Opcode.Text }), Buffer.from(UNMASKED_HELLO));
    });

    it('serializeFrame: "Hel" + "lo" fragments, Ping and masked Pong', () => {
      assert.deepEqual(
        Buffer.concat([
          serializeFrame('Hel', { opcode: Opcode.Text, fin: false }),
          serializeFrame('lo', { opcode: Opcode.Continuation }),
        ]),
        Buffer.from(FRAGMENTED_HEL_LO),
      );
      assert.deepEqual(serializeFrame('Hello', { opcode: Opcode.Ping }), Buffer.from(UNMASKED_PING));
      assert.deepEqual(serializeFrame('Hello', { opcode: Opcode.Pong, mask: KEY }), Buffer.from(MASKED_PONG));
    });

    it('serializeFrame: 256-byte and 64 KiB binary headers', () => {
      const f256 = serializeFrame(BIN_256, { opcode: Opcode.Binary });
      assert.deepEqual(f256, Buffer.concat([Buffer.from(HEADER_256), BIN_256]));
      const f64k = serializeFrame(BIN_64K, { opcode: Opcode.Binary });
      assert.deepEqual(f64k, Buffer.concat([Buffer.from(HEADER_64K), BIN_64K]));
    });

    it('Protocol (server): unmasked "Hello", as a string and as text bytes', () => {
      const { p } = open({ role: 'server' });
      p.send('Hello', false);
      assert.deepEqual(output(p), Buffer.from(UNMASKED_HELLO));
      p.send(HELLO, false);
      assert.deepEqual(output(p), Buffer.from(UNMASKED_HELLO));
    });

    it('Protocol (client): masked "Hello" with the §5.7 key', () => {
      const { p } = open({ role: 'client', generateMask: (m) => KEY.copy(m) });
      p.send('Hello', false);
      assert.deepEqual(output(p), Buffer.from(MASKED_HELLO));
    });

    it('Protocol (server): "Hel" + "lo" with fin: false, and with fragmentSize 3', () => {
      const a = open({ role: 'server' });
      a.p.send('Hel', false, { fin: false });
      a.p.send('lo', false);
      assert.deepEqual(output(a.p), Buffer.from(FRAGMENTED_HEL_LO));
      const b = open({ role: 'server', fragmentSize: 3 });
      b.p.send('Hello', false);
      assert.deepEqual(output(b.p), Buffer.from(FRAGMENTED_HEL_LO));
    });

    it('Protocol: unmasked Ping (server) and masked Pong (client)', () => {
      const s = open({ role: 'server' });
      s.p.ping(HELLO);
      assert.deepEqual(output(s.p), Buffer.from(UNMASKED_PING));
      const c = open({ role: 'client', generateMask: (m) => KEY.copy(m) });
      c.p.pong(HELLO);
      assert.deepEqual(output(c.p), Buffer.from(MASKED_PONG));
    });

    it('Protocol (server): 256-byte and 64 KiB binary messages', () => {
      const { p } = open({ role: 'server' });
      p.send(BIN_256, true);
      assert.deepEqual(output(p), Buffer.concat([Buffer.from(HEADER_256), BIN_256]));
      p.send(BIN_64K, true);
      assert.deepEqual(output(p), Buffer.concat([Buffer.from(HEADER_64K), BIN_64K]));
    });
  });
});
