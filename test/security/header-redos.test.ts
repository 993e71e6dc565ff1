// SECURITY.md, "Header parsing in linear time" (the class of ws's CVE-2021-32640: splitting
// Sec-WebSocket-Protocol with a regular expression took quadratic time on long runs of spaces, so
// one request could hold the event loop for seconds). wskit reads the request head, the
// subprotocol list and the extension list with single passes by index: the tests time the worst
// inputs we know of at sizes where a quadratic parser would take seconds, and allow a hundredth of
// that.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUpgradeRequest, parseExtensions, parseProtocolList } from '../../src/protocol/index.js';
import { rawRequest, rawWebSocket, serve, statusOf, upgradeRequest } from './helpers.js';

/** Milliseconds `fn` takes (the best of 3, so that a pause of the shared machine does not count). */
function time(fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function throwsOrNot(fn: () => unknown): () => void {
  return () => {
    try {
      fn();
    } catch {
      // refused, as it should be: only the time matters here
    }
  };
}

const SPACES = ' '.repeat(200_000);
/** 200 KB of hostile input each: a quadratic parser takes seconds over it, a linear one milliseconds. */
const HOSTILE = {
  'spaces between two names': `a${SPACES}b`,
  'spaces then a comma, repeated': 'a ,'.repeat(66_666),
  'one name, then only spaces': `chat,${SPACES}`,
  'commas and spaces alternating': ', '.repeat(100_000),
};

describe('header parsing takes linear time (CVE-2021-32640 class)', () => {
  for (const [name, value] of Object.entries(HOSTILE)) {
    it(`Sec-WebSocket-Protocol, ${name} (200 KB): under 250 ms`, () => {
      const ms = time(throwsOrNot(() => parseProtocolList(value)));
      assert.ok(ms < 250, `${ms.toFixed(0)} ms`);
    });
    it(`Sec-WebSocket-Extensions, ${name} (200 KB): under 250 ms`, () => {
      const ms = time(throwsOrNot(() => parseExtensions(`permessage-deflate;${value}`)));
      assert.ok(ms < 250, `${ms.toFixed(0)} ms`);
    });
  }

  it('extension parameters: 20,000 of them, quoted values with escapes, under 250 ms', () => {
    const header = `x${'; a="\\b\\c"'.repeat(20_000)}`;
    let offers: ReturnType<typeof parseExtensions> = [];
    const ms = time(() => {
      offers = parseExtensions(header);
    });
    assert.equal(offers[0].params.length, 20_000);
    assert.deepEqual(offers[0].params[0], ['a', 'bc']);
    assert.ok(ms < 250, `${ms.toFixed(0)} ms`);
  });

  it('the whole handshake check with 200 KB hostile Sec-WebSocket-Protocol and -Extensions: a 400, under 250 ms', () => {
    let status = 0;
    const ms = time(() => {
      const result = checkUpgradeRequest({
        method: 'GET',
        httpVersion: '1.1',
        headers: {
          host: 'x',
          upgrade: 'websocket',
          connection: 'Upgrade',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
          'sec-websocket-protocol': HOSTILE['spaces between two names'],
          'sec-websocket-extensions': HOSTILE['commas and spaces alternating'],
        },
      });
      status = result.ok ? 101 : result.status;
    });
    assert.equal(status, 400);
    assert.ok(ms < 250, `${ms.toFixed(0)} ms`);
  });

  it('over the wire: a request head of spaces up to maxHeaderSize is refused, and the server stays responsive', async () => {
    const { port } = await serve();
    const value = `a${' '.repeat(16_000)}b`;
    const start = performance.now();
    const response = await rawRequest(port, upgradeRequest({ 'Sec-WebSocket-Protocol': value }));
    assert.equal(statusOf(response), 400);
    // A valid offer with the padding RFC 9110 allows (spaces around the commas) is accepted.
    const { head } = await rawWebSocket(port, {
      'Sec-WebSocket-Protocol': `chat${' '.repeat(4000)},  superchat`,
    });
    assert.match(head, /\r\nSec-WebSocket-Protocol: chat(\r\n|$)/);
    assert.ok(performance.now() - start < 1000);
  });
});
