// RFC 8441's opening handshake in the sans-I/O core: the server's checks of an extended CONNECT, the
// 200 it answers, the client's request and its checks of the answer. Header objects only, no socket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkExtendedConnect,
  checkExtendedConnectResponse,
  extendedConnectRequest,
  extendedConnectResponse,
  isExtendedConnect,
  type WebSocketError,
} from '../../src/protocol/index.js';

const VALID = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat',
  ':authority': 'example.com',
  'sec-websocket-version': '13',
};

describe('checkExtendedConnect (RFC 8441 §4, §5)', () => {
  it('accepts a valid request, with its offers', () => {
    const r = checkExtendedConnect({
      ...VALID,
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      origin: 'https://example.com',
    });
    assert.ok(r.ok);
    assert.deepEqual(r.protocols, ['chat', 'superchat']);
    assert.equal(r.extensions[0].name, 'permessage-deflate');
    assert.equal(r.origin, 'https://example.com');
  });

  it('tells an extended CONNECT for a WebSocket from any other request', () => {
    assert.equal(isExtendedConnect(VALID), true);
    assert.equal(isExtendedConnect({ ...VALID, ':protocol': 'WebSocket' }), true);
    assert.equal(isExtendedConnect({ ...VALID, ':protocol': 'webtransport' }), false);
    assert.equal(isExtendedConnect({ ':method': 'CONNECT', ':authority': 'example.com:443' }), false);
    assert.equal(isExtendedConnect({ ...VALID, ':method': 'GET' }), false);
  });

  for (const [what, headers, status] of [
    ['no :protocol', { ...VALID, ':protocol': undefined }, 400],
    ['no :path', { ...VALID, ':path': undefined }, 400],
    ['no :scheme', { ...VALID, ':scheme': undefined }, 400],
    ['no :authority', { ...VALID, ':authority': undefined }, 400],
    ['version 8', { ...VALID, 'sec-websocket-version': '8' }, 400],
    ['no version', { ...VALID, 'sec-websocket-version': undefined }, 400],
    ['a duplicate subprotocol', { ...VALID, 'sec-websocket-protocol': 'a, a' }, 400],
    ['a malformed extension offer', { ...VALID, 'sec-websocket-extensions': 'permessage-deflate;;' }, 400],
  ] as const) {
    it(`refuses ${what} with ${status}, never throwing`, () => {
      const r = checkExtendedConnect(headers);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, status);
        assert.ok(r.reason.length > 0);
      }
    });
  }

  it('names the version to use on a version refusal', () => {
    const r = checkExtendedConnect({ ...VALID, 'sec-websocket-version': '12' });
    assert.ok(!r.ok);
    assert.deepEqual(r.headers, { 'sec-websocket-version': '13' });
  });
});

describe('extendedConnectResponse and extendedConnectRequest', () => {
  it('answers :status 200 with the negotiated values only, and no Sec-WebSocket-Accept', () => {
    assert.deepEqual(extendedConnectResponse({}), { ':status': 200 });
    assert.deepEqual(extendedConnectResponse({ protocol: 'chat', extensions: 'permessage-deflate' }), {
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
    });
  });

  it('builds the request with the pseudo-headers, version 13, no key and no connection-specific header', () => {
    const h = extendedConnectRequest({
      scheme: 'https',
      authority: 'example.com:8443',
      path: '/a?b',
      protocols: ['x', 'y'],
      extensions: 'permessage-deflate',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', Host: 'h', 'X-A': '1', ':method': 'GET' },
    });
    assert.deepEqual(h, {
      'x-a': '1',
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': 'example.com:8443',
      ':path': '/a?b',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'x,y',
      'sec-websocket-extensions': 'permessage-deflate',
    });
  });
});

describe('checkExtendedConnectResponse', () => {
  const expected = { protocols: ['chat'], extensions: ['permessage-deflate'] };

  it('accepts any 2xx with what was offered', () => {
    const r = checkExtendedConnectResponse(
      { ':status': 200, 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate' },
      expected,
    );
    assert.equal(r.protocol, 'chat');
    assert.equal(r.extensions[0].name, 'permessage-deflate');
    assert.equal(checkExtendedConnectResponse({ ':status': '204' }, expected).protocol, '');
  });

  it('rejects another status with WS_ERR_HANDSHAKE_REJECTED and the status', () => {
    assert.throws(
      () => checkExtendedConnectResponse({ ':status': 403 }, expected),
      (e: WebSocketError) => e.code === 'WS_ERR_HANDSHAKE_REJECTED' && e.status === 403,
    );
  });

  for (const [what, headers] of [
    ['a subprotocol never offered', { ':status': 200, 'sec-websocket-protocol': 'other' }],
    ['an empty subprotocol', { ':status': 200, 'sec-websocket-protocol': '' }],
    ['an extension never offered', { ':status': 200, 'sec-websocket-extensions': 'x-other' }],
    [
      'an extension twice',
      { ':status': 200, 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' },
    ],
    ['a malformed extension header', { ':status': 200, 'sec-websocket-extensions': ';' }],
  ] as const) {
    it(`rejects ${what} with WS_ERR_HANDSHAKE_INVALID_RESPONSE`, () => {
      assert.throws(
        () => checkExtendedConnectResponse(headers, expected),
        (e: WebSocketError) => e.code === 'WS_ERR_HANDSHAKE_INVALID_RESPONSE',
      );
    });
  }
});
