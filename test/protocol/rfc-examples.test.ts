import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptKey,
  Opcode,
  Protocol,
  type ProtocolHandler,
  serializeFrame,
} from '../../src/protocol/index.js';

function recorder() {
  const events: unknown[][] = [];
  const handler: ProtocolHandler = {
    onMessage: (data, isBinary) => events.push(['message', Buffer.from(data), isBinary]),
    onPing: (data) => events.push(['ping', Buffer.from(data)]),
    onPong: (data) => events.push(['pong', Buffer.from(data)]),
    onCloseFrame: (code, reason) => events.push(['close', code, reason.toString()]),
    onProtocolError: (err) => events.push(['error', err.code, err.closeCode]),
  };
  return { events, handler };
}

describe('RFC 6455 examples', () => {
  it('computes the Sec-WebSocket-Accept of §1.3', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('parses a single-frame masked text message "Hello" (§5.7)', () => {
    const { events, handler } = recorder();
    const p = new Protocol(handler, { role: 'server' });
    p.receive(Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
    assert.deepEqual(events, [['message', Buffer.from('Hello'), false]]);
  });

  it('serializes the unmasked "Hello" of §5.7', () => {
    assert.deepEqual(
      serializeFrame('Hello', { opcode: Opcode.Text }),
      Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
    );
    assert.deepEqual(
      serializeFrame('Hello', { opcode: Opcode.Text, mask: Buffer.from([0x37, 0xfa, 0x21, 0x3d]) }),
      Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
    );
  });
});
