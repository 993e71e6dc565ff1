// checkUpgradeRequest (RFC 6455 §4.2.1) and the 101 response (§4.2.2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AcceptedUpgrade,
  buildErrorResponse,
  checkUpgradeRequest,
  generateKey,
  isValidKey,
  type RefusedUpgrade,
  reasonPhrase,
  type UpgradeRequest,
  upgradeResponse,
  upgradeResponseLines,
} from '../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(
  headers: Record<string, string | string[] | undefined> = {},
  rest: Partial<UpgradeRequest> = {},
) {
  return {
    method: 'GET',
    httpVersion: '1.1',
    ...rest,
    headers: {
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
      ...headers,
    },
  };
}

function accepted(req: UpgradeRequest): AcceptedUpgrade {
  const result = checkUpgradeRequest(req);
  assert.equal(result.ok, true, result.ok ? '' : result.reason);
  return result as AcceptedUpgrade;
}

function refused(req: UpgradeRequest, status: number): RefusedUpgrade {
  const result = checkUpgradeRequest(req);
  assert.equal(result.ok, false, 'expected the request to be refused');
  const r = result as RefusedUpgrade;
  assert.equal(r.status, status, r.reason);
  assert.ok(r.reason.length > 0);
  return r;
}

describe('checkUpgradeRequest', () => {
  it('accepts the handshake of §1.2', () => {
    const r = accepted(
      request({
        origin: 'http://example.com',
        'sec-websocket-protocol': 'chat, superchat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      }),
    );
    assert.deepEqual(r, {
      ok: true,
      key: KEY,
      version: 13,
      protocols: ['chat', 'superchat'],
      extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }],
      origin: 'http://example.com',
    });
  });

  it('accepts a request with no method or version given (not an IncomingMessage)', () => {
    accepted({ headers: request().headers });
  });

  for (const method of ['POST', 'HEAD', 'PUT', 'get']) {
    it(`refuses method ${method} with 405 and Allow: GET`, () => {
      assert.deepEqual(refused(request({}, { method }), 405).headers, { Allow: 'GET' });
    });
  }

  it('refuses HTTP/1.0 with 505, accepts HTTP/1.1 and 2.0', () => {
    refused(request({}, { httpVersion: '1.0' }), 505);
    refused(request({}, { httpVersion: '0.9' }), 505);
    accepted(request({}, { httpVersion: '2.0' }));
  });

  it('refuses a request without Host (400)', () => {
    refused(request({ host: undefined }), 400);
    refused(request({ host: '' }), 400);
  });

  it('finds Upgrade and Connection tokens in lists, ignoring case', () => {
    accepted(request({ connection: 'keep-alive, Upgrade' }));
    accepted(request({ connection: 'keep-alive,upgrade' }));
    accepted(request({ connection: ['keep-alive', 'UPGRADE'] }));
    accepted(request({ upgrade: 'WebSocket' }));
    accepted(request({ upgrade: 'h2c, websocket' }));
  });

  it('refuses a missing or wrong Upgrade (400)', () => {
    refused(request({ upgrade: undefined }), 400);
    refused(request({ upgrade: 'h2c' }), 400);
    refused(request({ upgrade: 'websocket2' }), 400);
  });

  it('refuses a missing or wrong Connection (400)', () => {
    refused(request({ connection: undefined }), 400);
    refused(request({ connection: 'keep-alive' }), 400);
    refused(request({ connection: 'upgraded' }), 400);
  });

  it('refuses a key that is not 16 bytes of base64 (400)', () => {
    refused(request({ 'sec-websocket-key': undefined }), 400);
    refused(request({ 'sec-websocket-key': Buffer.alloc(15).toString('base64') }), 400);
    refused(request({ 'sec-websocket-key': Buffer.alloc(17).toString('base64') }), 400);
    refused(request({ 'sec-websocket-key': 'not base64 at all!!!!!==' }), 400);
    refused(request({ 'sec-websocket-key': '' }), 400);
    accepted(request({ 'sec-websocket-key': ` ${KEY} ` }));
  });

  it('accepts versions 8 and 7 when told to (legacy.hybi08), with Sec-WebSocket-Origin as the origin', () => {
    for (const version of ['8', '7']) {
      const result = checkUpgradeRequest(
        request({ 'sec-websocket-version': version, 'sec-websocket-origin': 'http://old.example' }),
        { versions: [13, 8, 7] },
      );
      assert.equal(result.ok, true);
      const r = result as AcceptedUpgrade;
      assert.equal(r.version, Number(version));
      assert.equal(r.origin, 'http://old.example');
    }
  });

  it('accepts version 8 by default, as ws does, with Sec-WebSocket-Origin as the origin', () => {
    const r = accepted(
      request({ 'sec-websocket-version': '8', 'sec-websocket-origin': 'http://old.example' }),
    );
    assert.equal(r.version, 8);
    assert.equal(r.origin, 'http://old.example');
  });

  for (const version of ['7', '14', '12', 'abc', '013x', undefined]) {
    it(`refuses version ${version ?? '(missing)'} by default with 400 and Sec-WebSocket-Version: 13, 8, as ws`, () => {
      const r = refused(request({ 'sec-websocket-version': version }), 400);
      assert.deepEqual(r.headers, { 'Sec-WebSocket-Version': '13, 8' });
      assert.equal(r.reason, 'Missing or invalid Sec-WebSocket-Version header');
      assert.equal(r.detail, `got ${JSON.stringify(version ?? '')}; this server speaks 13, 8`);
    });
  }

  it('with versions [13] (legacy.hybi08: false), version 8 is refused', () => {
    const r = checkUpgradeRequest(request({ 'sec-websocket-version': '8' }), { versions: [13] });
    assert.equal(r.ok, false);
    assert.deepEqual((r as RefusedUpgrade).headers, { 'Sec-WebSocket-Version': '13' });
  });

  it('a refused version lists the versions accepted', () => {
    const r = checkUpgradeRequest(request({ 'sec-websocket-version': '6' }), { versions: [13, 8, 7] });
    assert.equal(r.ok, false);
    assert.deepEqual((r as RefusedUpgrade).headers, { 'Sec-WebSocket-Version': '13, 8, 7' });
  });

  it("refuses in ws 8's order: method, Upgrade, key, version, path, subprotocols, extensions", () => {
    const bad = {
      upgrade: 'h2c',
      'sec-websocket-key': 'short',
      'sec-websocket-version': '99',
      'sec-websocket-protocol': 'a,,b',
      'sec-websocket-extensions': ';;',
    };
    const no = () => false;
    const reasonOf = (req: UpgradeRequest, shouldHandle?: (req: UpgradeRequest) => boolean) => {
      const r = checkUpgradeRequest(req, { shouldHandle });
      assert.equal(r.ok, false);
      return r as RefusedUpgrade;
    };
    assert.equal(reasonOf(request(bad, { method: 'POST' }), no).status, 405);
    assert.match(reasonOf(request(bad), no).reason, /^Invalid Upgrade header/);
    const { upgrade: _u, ...keyOn } = bad;
    assert.match(reasonOf(request(keyOn), no).reason, /^Missing or invalid Sec-WebSocket-Key header/);
    const { 'sec-websocket-key': _k, ...versionOn } = keyOn;
    assert.match(reasonOf(request(versionOn), no).reason, /^Missing or invalid Sec-WebSocket-Version/);
    const { 'sec-websocket-version': _v, ...pathOn } = versionOn;
    const path = reasonOf(request(pathOn), no);
    assert.equal(path.reason, 'Bad Request', "ws's body: the status text");
    assert.match(path.detail ?? '', /^Invalid URL path/);
    const protocolOn = reasonOf(request(pathOn), () => true);
    assert.equal(protocolOn.status, 400);
    assert.equal(protocolOn.reason, 'Invalid Sec-WebSocket-Protocol header');
    assert.equal(protocolOn.detail, 'invalid subprotocol name ""');
    const { 'sec-websocket-protocol': _p, ...extensionsOn } = pathOn;
    const extensions = reasonOf(request(extensionsOn), () => true);
    assert.equal(extensions.reason, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
    assert.match(extensions.detail ?? '', /unexpected character at index 0/);
  });

  it('refuses a malformed Sec-WebSocket-Protocol (400)', () => {
    for (const value of ['', 'a,,b', 'chat, chat', 'a b', 'a;b', 'chat,', 'ch@t']) {
      refused(request({ 'sec-websocket-protocol': value }), 400);
    }
    assert.deepEqual(accepted(request({ 'sec-websocket-protocol': ['a', 'b ,c'] })).protocols, [
      'a',
      'b',
      'c',
    ]);
  });

  it('refuses a malformed Sec-WebSocket-Extensions (400)', () => {
    for (const value of ['', 'a;', 'a,', ';a', 'a; b=', 'a; b="c', 'a b']) {
      refused(request({ 'sec-websocket-extensions': value }), 400);
    }
  });
});

describe('upgradeResponseLines', () => {
  it('answers the key of §1.3', () => {
    assert.deepEqual(upgradeResponseLines({ key: KEY }), [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    ]);
  });

  it('adds the chosen subprotocol and extensions', () => {
    const lines = upgradeResponseLines({ key: KEY, protocol: 'chat', extensions: 'permessage-deflate' });
    assert.deepEqual(lines.slice(4), [
      'Sec-WebSocket-Protocol: chat',
      'Sec-WebSocket-Extensions: permessage-deflate',
    ]);
    assert.equal(upgradeResponseLines({ key: KEY, protocol: '', extensions: '' }).length, 4);
  });

  it('upgradeResponse is the same response in one string, blank line included', () => {
    for (const options of [
      { key: KEY },
      { key: KEY, protocol: 'chat' },
      { key: KEY, extensions: 'permessage-deflate; server_no_context_takeover' },
      { key: KEY, protocol: 'chat', extensions: 'permessage-deflate' },
      { key: KEY, protocol: '', extensions: '' },
    ]) {
      assert.equal(upgradeResponse(options), `${upgradeResponseLines(options).join('\r\n')}\r\n\r\n`);
    }
  });
});

describe('handshake keys and error responses', () => {
  it('generateKey makes valid, distinct keys', () => {
    const a = generateKey();
    assert.ok(isValidKey(a));
    assert.notEqual(a, generateKey());
  });

  it('buildErrorResponse: status line, length, headers, no header injection', () => {
    const text = buildErrorResponse(426, 'Use 13', { 'Sec-WebSocket-Version': 13, Bad: 'x\r\nInjected: 1' });
    assert.ok(text.startsWith('HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\n'));
    assert.ok(text.includes('Content-Length: 6\r\n'));
    assert.ok(text.includes('Sec-WebSocket-Version: 13\r\n'));
    assert.ok(!text.includes('Injected'));
    assert.ok(text.endsWith('\r\n\r\nUse 13'));
    assert.equal(reasonPhrase(599), 'Error');
  });
});

describe('checkUpgradeRequest with a request built by hand', () => {
  it('header values that are numbers (not strings) are read as their text, never thrown on', () => {
    const result = checkUpgradeRequest({
      method: 'GET',
      httpVersion: '1.1',
      headers: {
        host: 'h',
        upgrade: 'websocket',
        connection: 'upgrade',
        'sec-websocket-version': 13,
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      } as never,
    });
    assert.equal(result.ok, true);
    const odd = checkUpgradeRequest({
      method: 'GET',
      httpVersion: '1.1',
      headers: { host: 'h', upgrade: 7, connection: null, 'sec-websocket-version': 13 } as never,
    });
    assert.equal(odd.ok, false);
  });
});
