// checkUpgradeResponse: the client's check of the server's 101 (RFC 6455 §4.1, steps 1-6 of the
// client's validation of the response).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUpgradeResponse, type UpgradeResponse, WebSocketError } from '../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function response(
  headers: Record<string, string | string[] | undefined> = {},
  statusCode = 101,
): UpgradeResponse {
  return {
    statusCode,
    headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT, ...headers },
  };
}

const offer = { key: KEY, protocols: ['chat', 'superchat'], extensions: ['permessage-deflate'] };

/** Refused with WS_ERR_HANDSHAKE_INVALID_RESPONSE: `pattern` matches the message; `message` is ws's text exactly, `detail` wskit's. */
function invalid(
  res: UpgradeResponse,
  expected = offer,
  pattern?: RegExp,
  message?: string,
  detail?: RegExp,
) {
  assert.throws(
    () => checkUpgradeResponse(res, expected),
    (err: unknown) =>
      err instanceof WebSocketError &&
      err.code === 'WS_ERR_HANDSHAKE_INVALID_RESPONSE' &&
      (pattern === undefined || pattern.test(err.message)) &&
      (message === undefined || err.message === message) &&
      (detail === undefined || detail.test(err.detail ?? '')),
  );
}

describe('checkUpgradeResponse', () => {
  it('accepts a valid 101, returning the subprotocol and extensions', () => {
    assert.deepEqual(checkUpgradeResponse(response(), offer), { protocol: '', extensions: [] });
    assert.deepEqual(
      checkUpgradeResponse(
        response({
          'sec-websocket-protocol': 'superchat',
          'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover',
          upgrade: 'WebSocket',
          connection: 'keep-alive, upgrade',
        }),
        offer,
      ),
      {
        protocol: 'superchat',
        extensions: [{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }],
      },
    );
  });

  for (const status of [200, 301, 400, 426, undefined]) {
    it(`refuses status ${status}`, () => {
      invalid({ ...response(), statusCode: status }, offer, new RegExp(String(status)));
    });
  }

  it('refuses a missing or wrong Upgrade header', () => {
    invalid(response({ upgrade: undefined }), offer, /Upgrade/);
    invalid(response({ upgrade: 'h2c' }), offer, undefined, 'Invalid Upgrade header', /Upgrade: h2c/);
  });

  it('refuses a missing or wrong Connection header', () => {
    invalid(response({ connection: undefined }), offer, /Connection/);
    invalid(response({ connection: 'close' }), offer, /Connection/);
  });

  it('refuses a missing or wrong Sec-WebSocket-Accept', () => {
    invalid(response({ 'sec-websocket-accept': undefined }), offer, /Accept/);
    invalid(response({ 'sec-websocket-accept': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }), offer, /Accept/);
    invalid(
      response(),
      { ...offer, key: 'x3JJHMbDL1EzLkh9GBhXDw==' },
      undefined,
      'Invalid Sec-WebSocket-Accept header',
      /does not match the key sent/,
    );
  });

  it('refuses a subprotocol that was not offered, or any when none was', () => {
    invalid(
      response({ 'sec-websocket-protocol': 'other' }),
      offer,
      undefined,
      'Server sent an invalid subprotocol',
      /"other", which was not offered/,
    );
    invalid(
      response({ 'sec-websocket-protocol': 'chat' }),
      { ...offer, protocols: [] },
      undefined,
      'Server sent a subprotocol but none was requested',
    );
    invalid(
      response({ 'sec-websocket-protocol': '' }),
      offer,
      undefined,
      'Server sent an invalid subprotocol',
      /empty/,
    );
  });

  it('refuses an extension that was not offered, twice, or malformed', () => {
    invalid(
      response({ 'sec-websocket-extensions': 'x-webkit-deflate-frame' }),
      offer,
      undefined,
      'Server indicated an extension that was not requested',
      /x-webkit-deflate-frame, which was not offered/,
    );
    invalid(
      response({ 'sec-websocket-extensions': 'permessage-deflate' }),
      { ...offer, extensions: [] },
      undefined,
      'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
    );
    invalid(
      response({ 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' }),
      offer,
      undefined,
      'Invalid Sec-WebSocket-Extensions header',
      /twice/,
    );
    invalid(
      response({ 'sec-websocket-extensions': 'permessage-deflate;' }),
      offer,
      undefined,
      'Invalid Sec-WebSocket-Extensions header',
      /a parameter name expected at the end/,
    );
  });
});
