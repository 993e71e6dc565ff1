import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RequestHeadParser, type RequestHeadResult } from '../../src/protocol/http-request-head.js';
import { checkUpgradeRequest } from '../../src/protocol/server-handshake.js';

const limits = { maxHeaderSize: 16 * 1024, maxHeadersCount: 100 };

function parse(text: string | Buffer, chunkSize = Number.POSITIVE_INFINITY): RequestHeadResult {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const parser = new RequestHeadParser(limits);
  let result: RequestHeadResult = { state: 'incomplete' };
  for (let i = 0; i < bytes.length; i += Math.min(chunkSize, bytes.length)) {
    result = parser.push(bytes.subarray(i, i + chunkSize));
    if (result.state === 'done') {
      // What was not pushed yet follows the head, as the socket's next chunks would.
      return { ...result, rest: Buffer.concat([result.rest, bytes.subarray(i + chunkSize)]) };
    }
    if (result.state === 'error') return result;
  }
  return result;
}

const UPGRADE =
  'GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

describe('RequestHeadParser', () => {
  it('header names that exist on Object.prototype are ordinary own headers', () => {
    const result = parse(
      UPGRADE.replace(
        '\r\n\r\n',
        '\r\n__proto__: a\r\nconstructor: b\r\ntoString: c\r\nConstructor: d\r\n\r\n',
      ),
    );
    assert.equal(result.state, 'done');
    if (result.state !== 'done') return;
    const { headers } = result.head;
    assert.equal(Object.getPrototypeOf(headers), Object.prototype, 'a plain object, as in Node');
    assert.ok(Object.hasOwn(headers, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, 'a');
    assert.equal(headers.constructor, 'b, d', 'joined with the later field, not with Object');
    assert.equal(headers.tostring, 'c');
    assert.equal(headers.host, 'example.com');
    assert.deepEqual(result.head.rawHeaders.slice(-8), [
      '__proto__',
      'a',
      'constructor',
      'b',
      'toString',
      'c',
      'Constructor',
      'd',
    ]);
  });

  it('the version must be HTTP/<digit>.<digit>; OWS around a value is dropped, a bare LF refused', () => {
    for (const version of ['HTTP/1.10', 'HTTP/x.1', 'http/1.1', 'HTTP/1,1', 'HTTP/11', 'HTTP/1.1 ']) {
      const result = parse(UPGRADE.replace('HTTP/1.1', version));
      assert.equal(result.state, 'error', version);
    }
    const ok = parse(UPGRADE.replace('Host: example.com', 'Host:\t example.com \t'));
    assert.equal(ok.state === 'done' && ok.head.headers.host, 'example.com');
    const lf = parse(UPGRADE.replace('Host: example.com', 'Host: example.com\nX-Injected: 1'));
    assert.equal(lf.state, 'error');
  });

  it('reads a request head in one chunk and byte by byte, keeping the bytes after it', () => {
    for (const size of [Number.POSITIVE_INFINITY, 1, 3, 7]) {
      const result = parse(Buffer.concat([Buffer.from(UPGRADE), Buffer.from([0x81, 0x80])]), size);
      assert.equal(result.state, 'done', `chunks of ${size}`);
      if (result.state !== 'done') return;
      assert.equal(result.head.method, 'GET');
      assert.equal(result.head.url, '/chat?room=1');
      assert.equal(result.head.httpVersion, '1.1');
      assert.equal(result.head.httpVersionMajor, 1);
      assert.equal(result.head.httpVersionMinor, 1);
      assert.equal(result.head.headers.host, 'example.com');
      assert.equal(result.head.headers['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
      assert.deepEqual(result.head.rawHeaders.slice(0, 2), ['Host', 'example.com']);
      assert.deepEqual(result.rest, Buffer.from([0x81, 0x80]));
    }
  });

  it('is incomplete until the blank line', () => {
    const parser = new RequestHeadParser(limits);
    assert.equal(parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')).state, 'incomplete');
    assert.equal(parser.push(Buffer.from('\r')).state, 'incomplete');
    assert.equal(parser.push(Buffer.from('\n')).state, 'done');
  });

  it('joins repeated fields as Node does', () => {
    const result = parse(
      'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\nCookie: b=2\r\nSet-Cookie: s=1\r\nSet-Cookie: s=2\r\n' +
        'User-Agent: first\r\nUser-Agent: second\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n\r\n',
    );
    assert.equal(result.state, 'done');
    if (result.state !== 'done') return;
    assert.equal(result.head.headers['x-a'], '1, 2');
    assert.equal(result.head.headers.cookie, 'a=1; b=2');
    assert.deepEqual(result.head.headers['set-cookie'], ['s=1', 's=2']);
    assert.equal(result.head.headers['user-agent'], 'first');
    assert.equal(result.head.headers.connection, 'keep-alive, Upgrade');
  });

  it('trims optional whitespace and ignores empty lines before the request line', () => {
    const result = parse('\r\nGET / HTTP/1.1\r\nHost:   a.example  \r\nEmpty:\r\n\r\n');
    assert.equal(result.state, 'done');
    if (result.state !== 'done') return;
    assert.equal(result.head.headers.host, 'a.example');
    assert.equal(result.head.headers.empty, '');
  });

  for (const [name, head, status] of [
    ['a request line with two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a request line without version', 'GET /\r\nHost: a\r\n\r\n', 400],
    ['a bad version', 'GET / HTTP/one\r\nHost: a\r\n\r\n', 400],
    ['a method that is not a token', 'G(ET / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a control character in the target', 'GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['a line without colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 400],
    ['a bare LF inside a value', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n', 400],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['a body (Content-Length)', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', 400],
    ['a body (Transfer-Encoding)', 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ] as const) {
    it(`refuses ${name} with ${status}`, () => {
      const result = parse(head);
      assert.equal(result.state, 'error');
      if (result.state === 'error') assert.equal(result.status, status);
    });
  }

  it('refuses a head over maxHeaderSize with 431, before it ends', () => {
    const parser = new RequestHeadParser({ maxHeaderSize: 1024, maxHeadersCount: 100 });
    assert.equal(parser.push(Buffer.from('GET / HTTP/1.1\r\n')).state, 'incomplete');
    const result = parser.push(Buffer.from(`X: ${'a'.repeat(2000)}`));
    assert.equal(result.state, 'error');
    if (result.state === 'error') assert.equal(result.status, 431);
  });

  it('maxHeaderSize counts the blank line, whether the head comes in one chunk or several', () => {
    const head = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    for (const [max, state] of [
      [head.length, 'done'],
      [head.length - 1, 'error'],
    ] as const) {
      for (const size of [Number.POSITIVE_INFINITY, 5]) {
        const parser = new RequestHeadParser({ maxHeaderSize: max, maxHeadersCount: 100 });
        let result: RequestHeadResult = { state: 'incomplete' };
        for (let i = 0; i < head.length && result.state === 'incomplete'; i += Math.min(size, head.length)) {
          result = parser.push(Buffer.from(head.slice(i, i + size), 'latin1'));
        }
        assert.equal(result.state, state, `max ${max}, chunks of ${size}`);
        if (result.state === 'error') assert.equal(result.status, 431);
      }
    }
  });

  it('refuses more than maxHeadersCount fields with 431', () => {
    const parser = new RequestHeadParser({ maxHeaderSize: 64 * 1024, maxHeadersCount: 3 });
    const result = parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'));
    assert.equal(result.state, 'error');
    if (result.state === 'error') assert.equal(result.status, 431);
  });

  it('a __proto__ field cannot change the headers object', () => {
    const result = parse('GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n\r\n');
    assert.equal(result.state, 'done');
    if (result.state === 'done') assert.equal(Object.getPrototypeOf(result.head.headers), Object.prototype);
  });

  it('reads a large head in many chunks in linear time (no quadratic re-scan)', () => {
    const parser = new RequestHeadParser({ maxHeaderSize: 8 * 1024 * 1024, maxHeadersCount: 200_000 });
    let result = parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'));
    for (let i = 0; i < 30_000 && result.state === 'incomplete'; i++)
      result = parser.push(Buffer.from(`X${i}: v\r\n`));
    result = parser.push(Buffer.from('\r\n'));
    assert.equal(result.state, 'done');
    if (result.state === 'done') assert.equal(result.head.rawHeaders.length, 2 * 30_001);
  });
});

describe('hostile request heads', () => {
  it('random bytes, in random chunks, never throw: incomplete, done or a 4xx', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }),
        (bytes, cuts) => {
          const parser = new RequestHeadParser({ maxHeaderSize: 512, maxHeadersCount: 10 });
          const data = Buffer.from(bytes);
          let pos = 0;
          for (const cut of [...cuts, data.length]) {
            if (pos >= data.length) break;
            const result = parser.push(data.subarray(pos, pos + cut));
            pos += cut;
            if (result.state === 'error') {
              assert.ok(result.status === 400 || result.status === 431);
              return;
            }
            if (result.state === 'done') {
              // Whatever was accepted passes through the handshake check without throwing either.
              const check = checkUpgradeRequest(result.head);
              if (!check.ok) assert.ok(check.status >= 400 && check.status < 600);
              return;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('request-like inputs with random header lines never throw', () => {
    const line = fc.stringMatching(/^[\x20-\x7e\t:]{0,40}$/);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const head = `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
        const result = new RequestHeadParser(limits).push(Buffer.from(head, 'latin1'));
        assert.notEqual(result.state, 'incomplete');
        if (result.state === 'done') checkUpgradeRequest(result.head);
      }),
      { numRuns: 300 },
    );
  });

  it('a hixie-76 request (Key1/Key2, no key, no version) is refused as ws refuses it (400, no key)', () => {
    const result = parse(
      'GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
        'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nOrigin: http://example.com\r\n\r\n^n:ds[4U',
    );
    assert.equal(result.state, 'done');
    if (result.state !== 'done') return;
    const check = checkUpgradeRequest(result.head);
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.equal(check.status, 400);
      assert.match(check.reason, /^Missing or invalid Sec-WebSocket-Key header/);
    }
  });
});
