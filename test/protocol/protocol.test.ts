// The Protocol: control frames, the closing handshake and its state machine (RFC 6455 §5.5, §7),
// sending, pausing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadyState, WebSocketError } from '../../src/protocol/index.js';
import { clientFrame, closeCodeOf, decodeFrames, open, rawFrame } from './helpers.js';

function isState(err: unknown): boolean {
  return err instanceof WebSocketError && err.code === 'WS_ERR_INVALID_STATE';
}

function isArgument(err: unknown): boolean {
  return err instanceof WebSocketError && err.code === 'WS_ERR_INVALID_ARGUMENT';
}

const close1000 = Buffer.from([0x03, 0xe8]);

describe('Ping and Pong', () => {
  it('answers a Ping with a Pong carrying the same payload (server: unmasked)', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x9, payload: 'are you there?' }));
    assert.deepEqual(r.events, [['ping', Buffer.from('are you there?')]]);
    assert.deepEqual(decodeFrames(r.p.takeOutput()), [
      { fin: true, rsv: 0, opcode: 0xa, masked: false, payload: Buffer.from('are you there?') },
    ]);
  });

  it('answers a Ping with a masked Pong (client), empty and 125-byte payloads too', () => {
    const r = open({ role: 'client' });
    const big = Buffer.alloc(125, 0x5a);
    r.p.receive(rawFrame({ opcode: 0x9 }));
    r.p.receive(
      Buffer.concat([rawFrame({ opcode: 0x9, payload: big }), rawFrame({ opcode: 0x1, payload: 'x' })]),
    );
    const frames = decodeFrames(r.p.takeOutput());
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.masked, f.payload]),
      [
        [0xa, true, Buffer.alloc(0)],
        [0xa, true, big],
      ],
    );
  });

  it('answers a Ping whose payload arrives one byte at a time', () => {
    const r = open({ role: 'server' });
    const frame = clientFrame({ opcode: 0x9, payload: 'split' });
    for (let i = 0; i < frame.length; i++) r.p.receive(frame.subarray(i, i + 1));
    assert.deepEqual(decodeFrames(r.p.takeOutput())[0].payload, Buffer.from('split'));
  });

  it('does not answer with autoPong: false, but still reports the Ping', () => {
    const r = open({ role: 'server', autoPong: false });
    r.p.receive(clientFrame({ opcode: 0x9, payload: 'x' }));
    assert.deepEqual(r.events, [['ping', Buffer.from('x')]]);
    assert.equal(r.p.takeOutput(), null);
    r.p.autoPong = true;
    r.p.receive(clientFrame({ opcode: 0x9, payload: 'y' }));
    assert.equal(decodeFrames(r.p.takeOutput())[0].opcode, 0xa);
  });

  it('does not answer a Ping after a Close was sent', () => {
    const r = open({ role: 'server' });
    r.p.close(1000);
    r.p.takeOutput();
    r.p.receive(clientFrame({ opcode: 0x9, payload: 'late' }));
    assert.deepEqual(r.events, [['ping', Buffer.from('late')]]);
    assert.equal(r.p.takeOutput(), null);
  });

  it('reports a Pong and does not answer it', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0xa, payload: 'beat' }));
    assert.deepEqual(r.events, [['pong', Buffer.from('beat')]]);
    assert.equal(r.p.takeOutput(), null);
  });

  it('ping() and pong() refuse more than 125 bytes', () => {
    const r = open({ role: 'server' });
    assert.throws(() => r.p.ping(Buffer.alloc(126)), isArgument);
    assert.throws(() => r.p.pong(Buffer.alloc(126)), isArgument);
    r.p.ping(Buffer.alloc(125));
    r.p.pong();
    assert.deepEqual(
      decodeFrames(r.p.takeOutput()).map((f) => [f.opcode, f.payload.length]),
      [
        [0x9, 125],
        [0xa, 0],
      ],
    );
  });
});

describe('closing handshake', () => {
  it('echoes the code (and reason, as ws does) of a Close frame and is then CLOSED', () => {
    const r = open({ role: 'server' });
    assert.equal(r.p.state, ReadyState.OPEN);
    r.p.receive(clientFrame({ opcode: 0x8, payload: Buffer.concat([close1000, Buffer.from('done')]) }));
    assert.deepEqual(r.events, [['close', 1000, Buffer.from('done')]]);
    const frames = decodeFrames(r.p.takeOutput());
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]), 1000);
    assert.equal(frames[0].payload.subarray(2).toString(), 'done');
    assert.equal(frames[0].masked, false);
    assert.equal(r.p.state, ReadyState.CLOSED);
    assert.ok(r.p.closeSent && r.p.closeReceived);
    assert.equal(r.p.receiveEof(), true);
  });

  it('the client echo is masked', () => {
    const r = open({ role: 'client' });
    r.p.receive(rawFrame({ opcode: 0x8, payload: Buffer.from([0x0f, 0xa0]) })); // 4000
    const [frame] = decodeFrames(r.p.takeOutput());
    assert.equal(frame.masked, true);
    assert.equal(closeCodeOf(frame), 4000);
  });

  it('answers an empty Close with an empty Close, reported as 1005', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x8 }));
    assert.deepEqual(r.events, [['close', 1005, Buffer.alloc(0)]]);
    const frames = decodeFrames(r.p.takeOutput());
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, 0x8);
    assert.equal(frames[0].payload.length, 0);
    assert.equal(r.p.closeCode, 1005);
  });

  it('OPEN → CLOSING on close(), CLOSING → CLOSED when the peer answers', () => {
    const r = open({ role: 'server' });
    r.p.close(1001, 'going away');
    assert.equal(r.p.state, ReadyState.CLOSING);
    const [frame] = decodeFrames(r.p.takeOutput());
    assert.equal(closeCodeOf(frame), 1001);
    assert.equal(frame.payload.subarray(2).toString(), 'going away');
    r.p.receive(clientFrame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe9]) }));
    assert.equal(r.p.state, ReadyState.CLOSED);
    assert.deepEqual(r.events, [['close', 1001, Buffer.alloc(0)]]);
    assert.equal(r.p.takeOutput(), null, 'no second Close');
    assert.equal(r.p.receiveEof(), true);
  });

  it('close() without a code sends an empty Close; a second close() does nothing', () => {
    const r = open({ role: 'server' });
    r.p.close();
    r.p.close(1000, 'again');
    const frames = decodeFrames(r.p.takeOutput());
    assert.equal(frames.length, 1);
    assert.equal(frames[0].payload.length, 0);
  });

  it('messages still arrive while CLOSING', () => {
    const r = open({ role: 'server' });
    r.p.close(1000);
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'in flight' }));
    assert.deepEqual(r.events, [['message', Buffer.from('in flight'), false, false]]);
    assert.equal(r.p.state, ReadyState.CLOSING);
  });

  it('close() refuses a reason over 123 bytes and invalid codes, and stays OPEN', () => {
    const r = open({ role: 'server' });
    assert.throws(() => r.p.close(1000, 'x'.repeat(124)), isArgument);
    assert.throws(() => r.p.close(1000, 'ü'.repeat(62)), isArgument);
    for (const code of [999, 1004, 1005, 1006, 1015, 5000]) assert.throws(() => r.p.close(code), isArgument);
    assert.equal(r.p.state, ReadyState.OPEN);
    assert.equal(r.p.closeSent, false);
    assert.equal(r.p.takeOutput(), null);
    r.p.close(1000, 'x'.repeat(123));
    assert.equal(decodeFrames(r.p.takeOutput())[0].payload.length, 125);
  });

  it('send, ping, pong and sendFramed after a Close throw WS_ERR_INVALID_STATE', () => {
    const r = open({ role: 'client' });
    r.p.close(1000);
    assert.throws(() => r.p.send('x', false), isState);
    assert.throws(() => r.p.send(Buffer.from('x'), true), isState);
    assert.throws(() => r.p.ping(), isState);
    assert.throws(() => r.p.pong(), isState);
    assert.throws(() => r.p.sendFramed(Buffer.from([0x81, 0x00])), isState);
    // Also after the peer's Close was echoed.
    const s = open({ role: 'server' });
    s.p.receive(clientFrame({ opcode: 0x8 }));
    assert.throws(() => s.p.send('x', false), isState);
  });

  it('ignores input after a Close frame, in the same chunk and later', () => {
    const r = open({ role: 'server' });
    r.p.receive(
      Buffer.concat([
        clientFrame({ opcode: 0x1, payload: 'before' }),
        clientFrame({ opcode: 0x8, payload: close1000 }),
        clientFrame({ opcode: 0x1, payload: 'after' }),
        clientFrame({ opcode: 0x9, payload: 'ping' }),
      ]),
    );
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'later' }));
    r.p.receive(Buffer.from([0xff, 0xff, 0xff])); // garbage too
    assert.deepEqual(r.events, [
      ['message', Buffer.from('before'), false, false],
      ['close', 1000, Buffer.alloc(0)],
    ]);
    assert.equal(decodeFrames(r.p.takeOutput()).length, 1, 'only the Close echo');
    assert.equal(r.p.error, null);
  });

  it('receiveEof without a Close leaves closeCode 1006 and CLOSED', () => {
    const r = open({ role: 'client' });
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'partial' }).subarray(0, 4));
    assert.equal(r.p.receiveEof(), false);
    assert.equal(r.p.state, ReadyState.CLOSED);
    assert.equal(r.p.closeCode, 1006);
    assert.equal(r.p.closeReceived, false);
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'x' }));
    assert.deepEqual(r.events, []);
  });

  it('input after a receiveEof that came before any byte is ignored too (found by fuzzing)', () => {
    // The parser is created with the first byte: an EOF before it must still stop the input.
    const r = open({ role: 'server' });
    assert.equal(r.p.receiveEof(), false);
    r.p.receive(clientFrame({ opcode: 0x2, payload: 'late' }));
    assert.deepEqual(r.events, []);
    assert.equal(r.p.state, ReadyState.CLOSED);
  });

  it('receiveEof after our Close but without the answer is not a clean close', () => {
    const r = open({ role: 'server' });
    r.p.close(1000);
    assert.equal(r.p.receiveEof(), false);
    assert.equal(r.p.closeCode, 1006);
  });

  it('a protocol error after close() reports the error but queues no second Close', () => {
    const r = open({ role: 'server' });
    r.p.close(1000);
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'unmasked' }));
    assert.deepEqual(r.events, [['error', 'WS_ERR_EXPECTED_MASK', 1002]]);
    const frames = decodeFrames(r.p.takeOutput());
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]), 1000);
  });

  it('a protocol error moves OPEN to CLOSING, and the peer’s answer is not read', () => {
    const r = open({ role: 'server' });
    r.p.receive(clientFrame({ opcode: 0x3 }));
    assert.equal(r.p.state, ReadyState.CLOSING);
    r.p.receive(clientFrame({ opcode: 0x8, payload: close1000 }));
    assert.equal(r.p.closeReceived, false);
    assert.equal(r.p.receiveEof(), false);
    assert.equal(r.p.state, ReadyState.CLOSED);
  });
});

describe('deferClose', () => {
  it('holds the Close echo back until the handler calls close(); messages queued first go first', () => {
    const r = open({ role: 'server' });
    r.handler.deferClose = () => true;
    r.p.receive(clientFrame({ opcode: 0x8, payload: Buffer.concat([close1000, Buffer.from('bye')]) }));
    assert.deepEqual(r.events, [['close', 1000, Buffer.from('bye')]]);
    assert.equal(r.p.takeOutput(), null, 'no echo yet');
    assert.equal(r.p.closeSent, false);
    r.p.send('still compressing', false);
    r.p.close(1000, 'bye');
    assert.deepEqual(
      decodeFrames(r.p.takeOutput()).map((f) => [f.opcode, f.payload.toString('latin1')]),
      [
        [0x1, 'still compressing'],
        [0x8, '\x03\xe8bye'],
      ],
    );
    assert.equal(r.p.state, ReadyState.CLOSED);
    assert.equal(r.p.receiveEof(), true);
  });

  it('holds back the Close of a protocol error; input is ignored meanwhile', () => {
    const r = open({ role: 'server' });
    let defer = true;
    r.handler.deferClose = () => defer;
    r.p.receive(clientFrame({ opcode: 0x1, payload: Buffer.from([0xff]) }));
    assert.deepEqual(r.events, [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    assert.equal(r.p.takeOutput(), null);
    assert.equal(r.p.state, ReadyState.CLOSING);
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'ignored' }));
    assert.equal(r.events.length, 1);
    defer = false;
    r.p.close(r.p.error!.closeCode);
    const frames = decodeFrames(r.p.takeOutput());
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]), 1007);
  });

  it('a handler answering false changes nothing', () => {
    const r = open({ role: 'server' });
    r.handler.deferClose = () => false;
    r.p.receive(clientFrame({ opcode: 0x8, payload: close1000 }));
    assert.equal(closeCodeOf(decodeFrames(r.p.takeOutput())[0]), 1000);
  });
});

describe('sending', () => {
  it('strings are text, Buffers binary unless isBinary is false', () => {
    const r = open({ role: 'server' });
    r.p.send('τ', false);
    r.p.send(Buffer.from([1]), true);
    r.p.send(Buffer.from('t'), false);
    assert.deepEqual(
      decodeFrames(r.p.takeOutput()).map((f) => [f.opcode, f.payload]),
      [
        [0x1, Buffer.from('τ')],
        [0x2, Buffer.from([1])],
        [0x1, Buffer.from('t')],
      ],
    );
  });

  it('parts sent with fin: false become continuation frames, RSV1 only on the first', () => {
    const r = open({ role: 'server' });
    r.p.send(Buffer.from('a'), true, { fin: false, rsv1: true });
    r.p.send(Buffer.from('b'), true, { fin: false, rsv1: true });
    r.p.send(Buffer.from('c'), true);
    r.p.send(Buffer.from('d'), true);
    assert.deepEqual(
      decodeFrames(r.p.takeOutput()).map((f) => [f.fin, f.rsv, f.opcode, f.payload.toString()]),
      [
        [false, 4, 0x2, 'a'],
        [false, 0, 0x0, 'b'],
        [true, 0, 0x0, 'c'],
        [true, 0, 0x2, 'd'],
      ],
    );
  });

  it('fragmentSize splits messages; control frames are not split', () => {
    const r = open({ role: 'client', fragmentSize: 4 });
    r.p.send('abcdefghij', false, { rsv1: true });
    r.p.send('abcd', false);
    r.p.ping(Buffer.from('123456789'));
    assert.deepEqual(
      decodeFrames(r.p.takeOutput()).map((f) => [f.fin, f.rsv, f.opcode, f.masked, f.payload.toString()]),
      [
        [false, 4, 0x1, true, 'abcd'],
        [false, 0, 0x0, true, 'efgh'],
        [true, 0, 0x0, true, 'ij'],
        [true, 0, 0x1, true, 'abcd'],
        [true, 0, 0x9, true, '123456789'],
      ],
    );
  });

  it('bufferedAmount and hasOutput follow the queue', () => {
    const r = open({ role: 'client' });
    assert.equal(r.p.hasOutput, false);
    assert.equal(r.p.bufferedAmount, 0);
    r.p.send('hello', false);
    assert.equal(r.p.hasOutput, true);
    assert.equal(r.p.bufferedAmount, 2 + 4 + 5);
    r.p.takeOutput();
    assert.equal(r.p.bufferedAmount, 0);
    assert.equal(r.p.takeOutput(), null);
  });

  it('sendFramed queues bytes as they are', () => {
    const r = open({ role: 'server' });
    const frame = Buffer.from([0x81, 0x02, 0x68, 0x69]);
    r.p.send('a', false);
    r.p.sendFramed(frame);
    assert.deepEqual(
      Buffer.concat(r.p.takeOutput()!),
      Buffer.from([0x81, 0x01, 0x61, 0x81, 0x02, 0x68, 0x69]),
    );
  });
});

describe('pause and resume', () => {
  it('holds input while paused, including the rest of a chunk paused mid-way', () => {
    const r = open({ role: 'server' });
    const origMessage = r.handler.onMessage;
    r.handler.onMessage = (data, isBinary, compressed) => {
      origMessage(data, isBinary, compressed);
      r.p.pause();
    };
    r.p.receive(
      Buffer.concat([
        clientFrame({ opcode: 0x1, payload: 'one' }),
        clientFrame({ opcode: 0x1, payload: 'two' }),
        clientFrame({ opcode: 0x1, payload: 'three' }),
      ]),
    );
    assert.equal(r.p.isPaused, true);
    assert.equal(r.events.length, 1);
    r.p.receive(clientFrame({ opcode: 0x1, payload: 'four' }));
    assert.equal(r.events.length, 1);
    r.p.resume();
    assert.equal(r.events.length, 2);
    r.p.resume();
    r.p.resume();
    assert.deepEqual(
      r.events.map((e) => (e[1] as Buffer).toString()),
      ['one', 'two', 'three', 'four'],
    );
  });

  it('keeps the order when a handler pauses and resumes at once, while a backlog is waiting', () => {
    const r = open({ role: 'server' });
    const orig = r.handler.onMessage;
    r.handler.onMessage = (data, isBinary, compressed) => {
      orig(data, isBinary, compressed);
      if (data.toString() === 'b') {
        r.p.pause();
        r.p.resume();
      }
    };
    const f = (s: string) => clientFrame({ opcode: 0x1, payload: s });
    r.p.pause();
    r.p.receive(Buffer.concat([f('a'), f('b'), f('c')]));
    r.p.receive(f('d'));
    r.p.resume();
    assert.deepEqual(
      r.events.map((e) => (e[1] as Buffer).toString()),
      ['a', 'b', 'c', 'd'],
    );
    assert.equal(r.p.isPaused, false);
  });

  it('a backlog of many chunks comes out in order, paused again mid-drain and mid-chunk, added to meanwhile', () => {
    // resume() used to shift() each chunk off the backlog: time in proportion to n^2 for n chunks
    // (found by the fuzzer's flood case; its time per byte is watched there, not asserted here).
    const r = open({ role: 'server' });
    let seen = 0;
    const orig = r.handler.onMessage;
    r.handler.onMessage = (data, isBinary, compressed) => {
      orig(data, isBinary, compressed);
      if (++seen % 7 === 0) r.p.pause();
    };
    const f = (i: number) => clientFrame({ opcode: 0x2, payload: Buffer.from([i & 0xff, i >> 8]) });
    r.p.pause();
    let sent = 0;
    // Single frames, and pairs of frames in one chunk (a pause inside a chunk keeps its rest first).
    while (sent < 20_000) {
      if (sent % 3 === 0) {
        r.p.receive(Buffer.concat([f(sent), f(sent + 1)]));
        sent += 2;
      } else r.p.receive(f(sent++));
    }
    let rounds = 0;
    while (r.p.isPaused) {
      r.p.resume();
      if (++rounds % 100 === 0) r.p.receive(f(sent++));
    }
    assert.equal(r.events.length, sent);
    r.events.forEach((e, i) => {
      assert.deepEqual(e, ['message', Buffer.from([i & 0xff, i >> 8]), true, false]);
    });
  });

  it('a violation found on resume is reported through onProtocolError', () => {
    const r = open({ role: 'server' });
    r.p.pause();
    r.p.receive(rawFrame({ opcode: 0x1, payload: 'unmasked' }));
    assert.deepEqual(r.events, []);
    assert.doesNotThrow(() => r.p.resume());
    assert.deepEqual(r.events, [['error', 'WS_ERR_EXPECTED_MASK', 1002]]);
  });
});

describe('handler exceptions', () => {
  it('an error thrown by the handler is not swallowed as a protocol error', () => {
    const r = open({ role: 'server' });
    r.handler.onMessage = () => {
      throw new TypeError('user bug');
    };
    assert.throws(() => r.p.receive(clientFrame({ opcode: 0x1, payload: 'x' })), TypeError);
    assert.equal(r.p.error, null);
  });
});

describe('Protocol: parts created on first use', () => {
  it('a protocol that has seen nothing reports no output, no buffered bytes, not paused', () => {
    const { p } = open({ role: 'server' });
    assert.equal(p.takeOutput(), null);
    assert.equal(p.bufferedAmount, 0);
    assert.equal(p.hasOutput, false);
    assert.equal(p.isPaused, false);
    assert.equal(p.receiveEof(), false);
    assert.equal(p.state, ReadyState.CLOSED);
  });

  it('maxPayload and allowRsv1 set before the first byte still apply', () => {
    const limited = open({ role: 'server' });
    limited.p.maxPayload = 4;
    limited.p.receive(clientFrame({ opcode: 0x2, payload: 'too long' }));
    const [close] = decodeFrames(limited.p.takeOutput());
    assert.equal(closeCodeOf(close), 1009);

    const rsv1 = open({ role: 'server' });
    rsv1.p.allowRsv1 = true;
    rsv1.p.receive(clientFrame({ opcode: 0x2, payload: 'x', rsv1: true }));
    assert.equal(rsv1.p.takeOutput(), null, 'RSV1 accepted: no Close queued');
    assert.equal(rsv1.events.length, 1);
  });
});
