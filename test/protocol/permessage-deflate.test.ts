import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExtensions } from '../../src/protocol/header-tokens.js';
import {
  acceptAsClient,
  clientOffer,
  formatResponse,
  negotiateAsServer,
  resolveNegotiationOptions,
} from '../../src/protocol/permessage-deflate.js';

const defaults = resolveNegotiationOptions();
const takeover = resolveNegotiationOptions({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
});

function serverAnswer(header: string, options = defaults): string | null {
  const result = negotiateAsServer(parseExtensions(header), options);
  return result === null ? null : formatResponse(result);
}

describe('permessage-deflate negotiation (RFC 7692 §7.1)', () => {
  it('a server configured with serverMaxWindowBits 8 compresses with 9 (zlib has no 8) and says so', () => {
    const eight = resolveNegotiationOptions({ serverMaxWindowBits: 8 });
    const asked = negotiateAsServer(parseExtensions('permessage-deflate; server_max_window_bits=12'), eight);
    assert.equal(asked?.params.serverMaxWindowBits, 9);
    assert.equal(
      asked && formatResponse(asked),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9',
    );
    // Not asked: the response may not carry the parameter (§7.1.2.1); the window is still 9 bits.
    const unasked = negotiateAsServer(parseExtensions('permessage-deflate'), eight);
    assert.equal(unasked?.params.serverMaxWindowBits, 9);
    assert.doesNotMatch(unasked ? formatResponse(unasked) : '', /server_max_window_bits/);
    // A client demanding 8 cannot be served by zlib: that offer is declined, the next one taken.
    assert.equal(
      serverAnswer('permessage-deflate; server_max_window_bits=8, permessage-deflate', eight),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });

  it('answers a browser offer without context takeover on either side by default', () => {
    assert.equal(
      serverAnswer('permessage-deflate; client_max_window_bits'),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });

  it('keeps context takeover when configured to, and says nothing it was not asked', () => {
    assert.equal(serverAnswer('permessage-deflate; client_max_window_bits', takeover), 'permessage-deflate');
    assert.equal(
      serverAnswer('permessage-deflate; server_no_context_takeover', takeover),
      'permessage-deflate; server_no_context_takeover',
    );
    assert.equal(
      serverAnswer('permessage-deflate; client_no_context_takeover', takeover),
      'permessage-deflate; client_no_context_takeover',
    );
  });

  it('accepts server_max_window_bits with the same or a smaller value', () => {
    const r = negotiateAsServer(parseExtensions('permessage-deflate; server_max_window_bits=10'), takeover);
    assert.equal(r?.params.serverMaxWindowBits, 10);
    assert.equal(formatResponse(r!), 'permessage-deflate; server_max_window_bits=10');
    const limited = resolveNegotiationOptions({
      serverMaxWindowBits: 9,
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
    });
    const r2 = negotiateAsServer(parseExtensions('permessage-deflate; server_max_window_bits=12'), limited);
    assert.equal(formatResponse(r2!), 'permessage-deflate; server_max_window_bits=9');
  });

  it('limits the client window only when the client offered the parameter', () => {
    const small = resolveNegotiationOptions({
      clientMaxWindowBits: 10,
      clientNoContextTakeover: false,
      serverNoContextTakeover: false,
    });
    const r = negotiateAsServer(parseExtensions('permessage-deflate; client_max_window_bits'), small);
    assert.equal(formatResponse(r!), 'permessage-deflate; client_max_window_bits=10');
    assert.equal(r!.params.clientMaxWindowBits, 10);
    const r2 = negotiateAsServer(parseExtensions('permessage-deflate'), small);
    assert.equal(formatResponse(r2!), 'permessage-deflate');
    assert.equal(r2!.params.clientMaxWindowBits, 15);
  });

  it('declines malformed offers and takes the next acceptable one', () => {
    for (const bad of [
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; client_max_window_bits=abc',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; unknown_param',
      'permessage-deflate; server_max_window_bits=8',
      'x-webkit-deflate-frame',
    ]) {
      assert.equal(serverAnswer(bad), null, bad);
    }
    assert.equal(
      serverAnswer(
        'permessage-deflate; server_max_window_bits=99, permessage-deflate; client_no_context_takeover',
        takeover,
      ),
      'permessage-deflate; client_no_context_takeover',
    );
  });

  it('the client offers what it needs and accepts a matching response', () => {
    assert.equal(
      clientOffer(defaults),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits',
    );
    assert.equal(clientOffer(takeover), 'permessage-deflate; client_max_window_bits');
    const [response] = parseExtensions(
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=12',
    );
    assert.deepEqual(acceptAsClient(response, defaults), {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 12,
    });
  });

  it('the client refuses responses its offer did not allow', () => {
    for (const [header, options] of [
      ['permessage-deflate', defaults], // server_no_context_takeover requested
      ['permessage-deflate; server_no_context_takeover; foo', defaults],
      ['permessage-deflate; client_max_window_bits', takeover], // a response must give the value
      [
        'permessage-deflate; server_max_window_bits=12',
        resolveNegotiationOptions({ serverNoContextTakeover: false, serverMaxWindowBits: 10 }),
      ],
      ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', defaults],
    ] as const) {
      const [response] = parseExtensions(header);
      assert.throws(
        () => acceptAsClient(response, options),
        { code: 'WS_ERR_HANDSHAKE_INVALID_RESPONSE' },
        header,
      );
    }
  });

  it('checks its options', () => {
    assert.throws(() => resolveNegotiationOptions({ serverMaxWindowBits: 16 }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
    assert.throws(() => resolveNegotiationOptions({ clientMaxWindowBits: 7.5 }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
    });
  });
});
