// The sans-I/O part of hixie-76: the handshake computation (draft-hixie-thewebsocketprotocol-76
// §1.3's worked example, §5.2's rules), the frame parser and serializer, with bytes only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkHixie76Request,
  frameHixie76Text,
  Hixie76Parser,
  Hixie76Protocol,
  hixie76Challenge,
  hixie76KeyNumber,
  hixie76Location,
  hixie76Response,
  isHixie76Request,
  type ProtocolHandler,
  type WebSocketError,
} from '../../src/protocol/index.js';
import { hixie76Expected, hixie76Key, hixie76Text } from './draft-clients.js';

// The example of the draft's §1.3.
const KEY1 = '4 @1  46546xW%0l 1 5';
const KEY2 = '12998 5 Y3 1  .P00';
const KEY3 = Buffer.from('^n:ds[4U', 'latin1');
const ANSWER = Buffer.from("8jKS'y:G*Co,Wxa-", 'latin1');

function headers(extra: Record<string, string | undefined> = {}) {
  return {
    host: 'example.com',
    upgrade: 'WebSocket',
    connection: 'Upgrade',
    origin: 'http://example.com',
    'sec-websocket-key1': KEY1,
    'sec-websocket-key2': KEY2,
    ...extra,
  };
}

describe('hixie-76 handshake', () => {
  it("computes the draft's example: key numbers and the MD5 answer", () => {
    assert.equal(hixie76KeyNumber(KEY1), 4146546015 / 5);
    assert.equal(hixie76KeyNumber(KEY2), 1299853100 / 5);
    const check = checkHixie76Request({ method: 'GET', headers: headers() });
    assert.ok(check.ok);
    if (!check.ok) return;
    assert.deepEqual(hixie76Challenge(check.key1, check.key2, KEY3), ANSWER);
  });

  it('agrees with a client written from the draft, for random keys', () => {
    for (let i = 0; i < 200; i++) {
      const a = hixie76Key();
      const b = hixie76Key();
      assert.equal(hixie76KeyNumber(a.key), a.number, a.key);
      const key3 = Buffer.from([i, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(hixie76Challenge(a.number, b.number, key3), hixie76Expected(a.number, b.number, key3));
    }
  });

  it('refuses keys with no space, a number not a multiple of the spaces, or past 32 bits', () => {
    assert.equal(hixie76KeyNumber('12345'), null);
    assert.equal(hixie76KeyNumber('1 2 3'), null); // 123 / 2
    assert.equal(hixie76KeyNumber('4294967296 '), null);
    assert.equal(hixie76KeyNumber('99999999999 '), null);
    assert.equal(hixie76KeyNumber(' '), null);
    assert.equal(hixie76KeyNumber('4294967295 '), 4294967295);
    for (const bad of [{ 'sec-websocket-key1': '12345' }, { 'sec-websocket-key2': 'x y' }]) {
      const r = checkHixie76Request({ method: 'GET', headers: headers(bad) });
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.status, 400);
    }
  });

  it('refuses a POST, a wrong Upgrade, no Connection: Upgrade, no Host, and header values that are not printable', () => {
    const cases: [Parameters<typeof checkHixie76Request>[0], number][] = [
      [{ method: 'POST', headers: headers() }, 405],
      [{ method: 'GET', headers: headers({ upgrade: 'h2c' }) }, 400],
      [{ method: 'GET', headers: headers({ connection: 'keep-alive' }) }, 400],
      [{ method: 'GET', headers: headers({ host: undefined }) }, 400],
      [{ method: 'GET', headers: headers({ origin: 'http://x\r\nSet-Cookie: a=b' }) }, 400],
      [{ method: 'GET', headers: headers({ 'sec-websocket-protocol': 'a\u0001' }) }, 400],
    ];
    for (const [req, status] of cases) {
      const r = checkHixie76Request(req);
      assert.equal(r.ok, false, JSON.stringify(req.headers));
      if (!r.ok) assert.equal(r.status, status);
    }
  });

  it('tells hixie-76 requests from RFC 6455 ones', () => {
    assert.equal(isHixie76Request(headers()), true);
    assert.equal(isHixie76Request(headers({ 'sec-websocket-version': '13' })), false);
    assert.equal(isHixie76Request(headers({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' })), false);
    assert.equal(isHixie76Request(headers({ 'sec-websocket-key2': undefined })), false);
  });

  it('writes the response of §5.2: the 101 head, then the 16 bytes', () => {
    const response = hixie76Response({
      key1: 4146546015 / 5,
      key2: 1299853100 / 5,
      key3: KEY3,
      origin: 'http://example.com',
      location: hixie76Location(false, 'example.com', '/demo'),
      protocol: 'sample',
    });
    const text = response.subarray(0, response.length - 16).toString('latin1');
    assert.equal(
      text,
      'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Location: ws://example.com/demo\r\n' +
        'Sec-WebSocket-Protocol: sample\r\n\r\n',
    );
    assert.deepEqual(response.subarray(-16), ANSWER);
    assert.equal(hixie76Location(true, 'h:8443', undefined), 'wss://h:8443/');
  });
});

function collect(maxPayload = 0) {
  const texts: string[] = [];
  let closing = 0;
  const parser = new Hixie76Parser(
    {
      onText: (data) => texts.push(data.toString()),
      onClosingFrame: () => closing++,
    },
    { maxPayload },
  );
  return { parser, texts, closing: () => closing };
}

/** Feeds bytes in random pieces. */
function feed(parser: Hixie76Parser, bytes: Buffer, seed: number): void {
  let pos = 0;
  let s = seed;
  while (pos < bytes.length) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (s % 7);
    parser.push(Buffer.from(bytes.subarray(pos, pos + n)));
    pos += n;
  }
}

describe('hixie-76 framing', () => {
  it('reads text frames split anywhere, and stops at the closing frame', () => {
    const stream = Buffer.concat([
      hixie76Text('hello'),
      hixie76Text(''),
      hixie76Text('héllo wörld ✓'),
      Buffer.from([0xff, 0x00]),
      hixie76Text('after the close'),
    ]);
    for (let seed = 1; seed < 50; seed++) {
      const c = collect();
      feed(c.parser, stream, seed);
      assert.deepEqual(c.texts, ['hello', '', 'héllo wörld ✓']);
      assert.equal(c.closing(), 1);
    }
  });

  it('discards length-prefixed frames and text frames of another type, as the draft tells a server', () => {
    const c = collect();
    const stream = Buffer.concat([
      Buffer.from([0x80, 0x83, 0x00]), // type 0x80, length 384 (two length bytes)
      Buffer.alloc(384, 0xff),
      Buffer.from([0x01]), // a text-type frame other than 0x00
      Buffer.from('ignored'),
      Buffer.from([0xff]),
      hixie76Text('kept'),
    ]);
    feed(c.parser, stream, 7);
    assert.deepEqual(c.texts, ['kept']);
    assert.equal(c.closing(), 0);
  });

  it('fails a text frame over maxPayload before holding more than maxPayload bytes (no 0xFF ever)', () => {
    const c = collect(1000);
    c.parser.push(Buffer.from([0x00]));
    c.parser.push(Buffer.alloc(600, 0x61));
    assert.throws(
      () => c.parser.push(Buffer.alloc(600, 0x61)),
      (err: WebSocketError) => err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && err.closeCode === 1009,
    );
    // Exactly maxPayload is fine.
    const ok = collect(4);
    ok.parser.push(hixie76Text('abcd'));
    assert.deepEqual(ok.texts, ['abcd']);
  });

  it('fails a length-prefixed frame over maxPayload, and a length that never ends', () => {
    const c = collect(100);
    assert.throws(() => c.parser.push(Buffer.from([0x80, 0x81, 0x00])), /maxPayload/); // 128 bytes
    const endless = collect(0);
    assert.throws(() => endless.parser.push(Buffer.from([0x80, ...Array(12).fill(0xff)])), /maxPayload/);
  });

  it('fails text that is not UTF-8 (1007)', () => {
    const c = collect();
    assert.throws(
      () => c.parser.push(Buffer.from([0x00, 0xc3, 0x28, 0xff])),
      (err: WebSocketError) => err.code === 'WS_ERR_INVALID_UTF8' && err.closeCode === 1007,
    );
  });

  it('a frame trickled in 1-byte reads is gathered (copied together, not one view per read)', () => {
    const c = collect(100_000);
    const frame = hixie76Text('x'.repeat(20_000));
    for (let i = 0; i < frame.length; i++) c.parser.push(frame.subarray(i, i + 1));
    assert.deepEqual(c.texts, ['x'.repeat(20_000)]);
  });

  it('skipUTF8Validation delivers text unchecked', () => {
    const bytes: Buffer[] = [];
    const parser = new Hixie76Parser(
      { onText: (d) => bytes.push(d), onClosingFrame: () => {} },
      { maxPayload: 0, skipUTF8Validation: true },
    );
    parser.push(Buffer.from([0x00, 0xc3, 0x28, 0xff]));
    assert.deepEqual(bytes, [Buffer.from([0xc3, 0x28])]);
  });

  it('holds messages while paused, in order, including what followed in the same chunk', () => {
    const texts: string[] = [];
    const parser: Hixie76Parser = new Hixie76Parser(
      {
        onText: (d) => {
          texts.push(d.toString());
          if (d.toString() === 'a') parser.pause();
        },
        onClosingFrame: () => texts.push('close'),
      },
      { maxPayload: 0 },
    );
    parser.push(Buffer.concat([hixie76Text('a'), hixie76Text('b')]));
    parser.push(Buffer.concat([hixie76Text('c'), Buffer.from([0xff, 0x00])]));
    assert.deepEqual(texts, ['a']);
    parser.resume();
    assert.deepEqual(texts, ['a', 'b', 'c', 'close']);
  });

  it('frames text as 0x00 ... 0xFF, and refuses bytes holding 0xFF (they would end the frame)', () => {
    assert.deepEqual(frameHixie76Text('hé'), Buffer.from([0x00, 0x68, 0xc3, 0xa9, 0xff]));
    assert.deepEqual(frameHixie76Text(Buffer.from('ok')), Buffer.from([0x00, 0x6f, 0x6b, 0xff]));
    assert.throws(() => frameHixie76Text(Buffer.from([0x61, 0xff, 0x00])), /0xFF/);
  });
});

describe('Hixie76Protocol', () => {
  function protocol() {
    const events: string[] = [];
    const handler: ProtocolHandler = {
      onMessage: (data, isBinary) => events.push(`message ${data} ${isBinary}`),
      onPing: () => events.push('ping'),
      onPong: () => events.push('pong'),
      onCloseFrame: (code) => events.push(`close ${code}`),
      onProtocolError: (err) => events.push(`error ${err.code}`),
    };
    return { p: new Hixie76Protocol(handler, { maxPayload: 10 }), events };
  }

  it('text in and out, binary, parts, ping and pong refused with WS_ERR_LEGACY_UNSUPPORTED', () => {
    const { p, events } = protocol();
    p.receive(hixie76Text('hi'));
    assert.deepEqual(events, ['message hi false']);
    p.send('yo', false);
    assert.deepEqual(p.takeOutput(), [Buffer.from([0x00, 0x79, 0x6f, 0xff])]);
    const legacy = { code: 'WS_ERR_LEGACY_UNSUPPORTED' };
    assert.throws(() => p.send(Buffer.from([1]), true), legacy);
    assert.throws(() => p.send('a', false, { fin: false }), legacy);
    assert.throws(() => p.ping(), legacy);
    assert.throws(() => p.pong(), legacy);
  });

  it("answers the peer's closing frame with its own, reported as a Close with no code (1005)", () => {
    const { p, events } = protocol();
    p.receive(Buffer.from([0xff, 0x00]));
    assert.deepEqual(events, ['close 1005']);
    assert.deepEqual(p.takeOutput(), [Buffer.from([0xff, 0x00])]);
    assert.equal(p.closeSent && p.closeReceived, true);
  });

  it('close() sends 0xFF 0x00 for any valid code; a violation closes the same way', () => {
    const { p } = protocol();
    // The same mistakes as with RFC 6455 throw, though the code is not sent.
    assert.throws(() => p.close(1005), { code: 'WS_ERR_INVALID_ARGUMENT' });
    p.close(4000, 'dropped');
    assert.deepEqual(p.takeOutput(), [Buffer.from([0xff, 0x00])]);
    const second = protocol();
    second.p.receive(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(20, 0x61)]));
    assert.deepEqual(second.events, ['error WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    assert.deepEqual(second.p.takeOutput(), [Buffer.from([0xff, 0x00])]);
  });

  it('sends the text of a frame made for RFC 6455 connections (publish), and skips binary ones', () => {
    const { p } = protocol();
    p.sendFramed(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    p.sendFramed(Buffer.from([0x82, 0x01, 0x00]));
    p.sendFramed(Buffer.from([0xc1, 0x01, 0x00])); // compressed
    assert.deepEqual(p.takeOutput(), [Buffer.from([0x00, 0x68, 0x69, 0xff])]);
  });
});
