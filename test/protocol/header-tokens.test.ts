// Header token lists: Sec-WebSocket-Extensions (RFC 6455 §9.1), Sec-WebSocket-Protocol, Connection.
// Hostile headers must be parsed or refused in linear time: large inputs simply have to finish.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ExtensionOffer,
  formatExtensions,
  headerHasToken,
  isToken,
  parseExtensions,
  parseProtocolList,
  WebSocketError,
} from '../../src/protocol/index.js';

function extensionError(err: unknown): boolean {
  return (
    err instanceof WebSocketError && err.code === 'WS_ERR_INVALID_EXTENSION_HEADER' && err.status === 400
  );
}

function protocolError(err: unknown): boolean {
  return err instanceof WebSocketError && err.code === 'WS_ERR_INVALID_PROTOCOL_HEADER' && err.status === 400;
}

describe('parseExtensions', () => {
  it('parses names, parameters with and without values, in order', () => {
    assert.deepEqual(parseExtensions('permessage-deflate'), [{ name: 'permessage-deflate', params: [] }]);
    assert.deepEqual(
      parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10, foo'),
      [
        {
          name: 'permessage-deflate',
          params: [
            ['client_max_window_bits', true],
            ['server_max_window_bits', '10'],
          ],
        },
        { name: 'foo', params: [] },
      ],
    );
  });

  it('keeps repeated extensions and parameters (the extension decides what they mean)', () => {
    assert.deepEqual(parseExtensions('a;x=1;x=2, a'), [
      {
        name: 'a',
        params: [
          ['x', '1'],
          ['x', '2'],
        ],
      },
      { name: 'a', params: [] },
    ]);
  });

  it('unquotes quoted values, with backslash escapes', () => {
    assert.deepEqual(parseExtensions('a; b="10"; c="x\\y"'), [
      {
        name: 'a',
        params: [
          ['b', '10'],
          ['c', 'xy'],
        ],
      },
    ]);
  });

  it('allows spaces and tabs around every separator', () => {
    assert.deepEqual(parseExtensions(' \ta \t; \tb \t= \t"1" \t, \tc\t;d=2 '), [
      { name: 'a', params: [['b', '1']] },
      { name: 'c', params: [['d', '2']] },
    ]);
  });

  for (const header of [
    '',
    ' ',
    ',',
    'a,',
    ',a',
    'a,,b',
    'a;',
    'a;;b',
    ';a',
    'a;=1',
    'a; b=',
    'a; b=,c',
    'a; b="',
    'a; b="1',
    'a; b="1\\',
    'a; b=""',
    'a; b="1 2"',
    'a; b="1,2"',
    'a; b=1 2',
    'a b',
    'a@b',
    'a; b=é',
    'ä',
    'a; b="1"c',
  ]) {
    it(`refuses ${JSON.stringify(header)}`, () => {
      assert.throws(() => parseExtensions(header), extensionError);
    });
  }

  it('round-trips through formatExtensions', () => {
    const offers: ExtensionOffer[] = [
      {
        name: 'permessage-deflate',
        params: [
          ['client_max_window_bits', true],
          ['server_max_window_bits', '12'],
        ],
      },
      { name: 'x', params: [] },
    ];
    const text = formatExtensions(offers);
    assert.equal(text, 'permessage-deflate; client_max_window_bits; server_max_window_bits=12, x');
    assert.deepEqual(parseExtensions(text), offers);
  });

  describe('hostile headers finish (linear time)', () => {
    const MB = 1024 * 1024;
    it('1 MB of ";" is refused', () => {
      assert.throws(() => parseExtensions(';'.repeat(MB)), extensionError);
      assert.throws(() => parseExtensions(`a${';'.repeat(MB)}`), extensionError);
    });

    it('"a;b=" repeated to 1 MB is refused; "a;b=1" repeated is parsed', () => {
      assert.throws(() => parseExtensions('a;b='.repeat(MB / 4)), extensionError);
      const offers = parseExtensions(`x${';b=1'.repeat(MB / 4)}`);
      assert.equal(offers[0].params.length, MB / 4);
    });

    it('an unterminated quoted string of 1 MB is refused; a terminated one parsed', () => {
      assert.throws(() => parseExtensions(`a; b="${'x'.repeat(MB)}`), extensionError);
      assert.throws(() => parseExtensions(`a; b="${'\\x'.repeat(MB / 2)}`), extensionError);
      assert.equal((parseExtensions(`a; b="${'x'.repeat(MB)}"`)[0].params[0][1] as string).length, MB);
    });

    it('1 MB of spaces, of commas, and many extensions', () => {
      assert.throws(() => parseExtensions(' '.repeat(MB)), extensionError);
      assert.throws(() => parseExtensions(`a${' ,'.repeat(MB / 2)}`), extensionError);
      assert.equal(parseExtensions('a, '.repeat(300000).slice(0, -2)).length, 300000);
    });

    it('huge Protocol and Connection lists', () => {
      assert.throws(() => parseProtocolList(','.repeat(MB)), protocolError);
      assert.equal(
        parseProtocolList(Array.from({ length: 100000 }, (_, i) => `p${i}`).join(', ')).length,
        100000,
      );
      assert.equal(headerHasToken(`${'x, '.repeat(MB / 3)}upgrade`, 'Upgrade'), true);
      assert.equal(headerHasToken(','.repeat(MB), 'upgrade'), false);
    });
  });
});

describe('parseProtocolList', () => {
  it('splits on commas and trims', () => {
    assert.deepEqual(parseProtocolList('chat'), ['chat']);
    assert.deepEqual(parseProtocolList(' chat ,\tsuperchat,v2.json '), ['chat', 'superchat', 'v2.json']);
  });

  it('refuses empty elements, non-tokens and duplicates', () => {
    for (const value of ['', ' ', 'a,', ',a', 'a,,b', 'a b', 'a/b', 'a;b', 'a,a', 'ä']) {
      assert.throws(() => parseProtocolList(value), protocolError, value);
    }
  });
});

describe('headerHasToken and isToken', () => {
  it('finds a token in a comma list or an array, ignoring case and spaces', () => {
    assert.equal(headerHasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(headerHasToken(['keep-alive', ' UPGRADE '], 'upgrade'), true);
    assert.equal(headerHasToken('keep-alive, upgraded', 'upgrade'), false);
    assert.equal(headerHasToken(undefined, 'upgrade'), false);
    assert.equal(headerHasToken('', 'upgrade'), false);
  });

  it('compares each whole element, trimmed of spaces and tabs, with ASCII letters folded', () => {
    assert.equal(headerHasToken('Upgrade', 'upgrade'), true);
    assert.equal(headerHasToken('\tupgrade\t,x', 'upgrade'), true);
    assert.equal(headerHasToken('x,,  ,upgrade', 'upgrade'), true);
    assert.equal(headerHasToken('x, upgrade,', 'upgrade'), true);
    assert.equal(headerHasToken('up grade', 'upgrade'), false);
    assert.equal(headerHasToken('upgradex, xupgrade', 'upgrade'), false);
    assert.equal(headerHasToken('WebSocket', 'websocket'), true);
    // Only A-Z fold: the Kelvin sign and latin1 letters are not ASCII letters.
    assert.equal(headerHasToken('websoc\u212aet', 'websocket'), false);
    assert.equal(headerHasToken('websoc\u00cbt', 'websocket'), false);
    assert.equal(headerHasToken(['a', 'b, c'], 'c'), true);
    assert.equal(headerHasToken(['a', 'b, c'], 'd'), false);
  });

  it('isToken follows RFC 7230 tchar', () => {
    assert.equal(isToken("!#$%&'*+-.^_`|~09azAZ"), true);
    assert.equal(isToken(''), false);
    for (const bad of [
      ' ',
      '"',
      '(',
      ')',
      ',',
      '/',
      ':',
      ';',
      '<',
      '=',
      '>',
      '?',
      '@',
      '[',
      '\\',
      ']',
      '{',
      '}',
    ]) {
      assert.equal(isToken(`a${bad}`), false, bad);
    }
    assert.equal(isToken('é'), false);
    assert.equal(isToken('a\u0000'), false);
  });
});
