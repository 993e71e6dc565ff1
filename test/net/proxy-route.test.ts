// Which proxy a client uses: the proxy option, the environment (https_proxy / http_proxy /
// no_proxy) with 'env', and loopback hosts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bypasses, isLoopback, proxyFor } from '../../src/node/handshake/proxy-route.js';

const ws = (url: string) => new URL(url);

describe('proxyFor', () => {
  it('uses no proxy by default or with false, whatever the environment says (as ws)', () => {
    const env = { http_proxy: 'http://proxy:3128', HTTPS_PROXY: 'http://proxy:3128' };
    assert.equal(proxyFor(undefined, ws('ws://example.com/'), env), null);
    assert.equal(proxyFor(false, ws('wss://example.com/'), env), null);
  });

  it('an explicit proxy URL is used for every host, loopback included', () => {
    assert.equal(proxyFor('http://p:1', ws('ws://127.0.0.1:9/'), {})?.href, 'http://p:1/');
    assert.equal(proxyFor(new URL('https://p:2'), ws('wss://x/'), {})?.href, 'https://p:2/');
    assert.equal(proxyFor('p:3', ws('ws://x/'), {})?.href, 'http://p:3/', 'no scheme: http://');
  });

  it('never proxies ws+unix: URLs', () => {
    assert.equal(proxyFor('http://p:1', ws('ws+unix:/tmp/s.sock'), {}), null);
  });

  it("'env': http_proxy for ws:, https_proxy for wss:, lower case first", () => {
    const env = {
      http_proxy: 'http://lower:1',
      HTTP_PROXY: 'http://upper:1',
      HTTPS_PROXY: 'http://secure:2',
    };
    assert.equal(proxyFor('env', ws('ws://example.com'), env)?.host, 'lower:1');
    assert.equal(proxyFor('env', ws('wss://example.com'), env)?.host, 'secure:2');
    assert.equal(proxyFor('env', ws('ws://example.com'), { HTTP_PROXY: 'http://u:1' })?.host, 'u:1');
    assert.equal(proxyFor('env', ws('wss://example.com'), { http_proxy: 'http://u:1' }), null);
    assert.equal(proxyFor('env', ws('ws://example.com'), { http_proxy: '  ' }), null);
  });

  it("'env' leaves loopback hosts alone", () => {
    const env = { http_proxy: 'http://p:1' };
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'a.localhost', '[::1]']) {
      assert.equal(proxyFor('env', ws(`ws://${host}:8080/`), env), null, host);
    }
    assert.equal(isLoopback('128.0.0.1'), false);
  });

  it("'env' honours no_proxy (and NO_PROXY)", () => {
    const env = { http_proxy: 'http://p:1', NO_PROXY: 'internal.example, .corp' };
    assert.equal(proxyFor('env', ws('ws://internal.example/'), env), null);
    assert.equal(proxyFor('env', ws('ws://a.corp/'), env), null);
    assert.equal(proxyFor('env', ws('ws://example.com/'), env)?.host, 'p:1');
  });

  it('rejects proxies other than http: and https: with a clear message', () => {
    assert.throws(() => proxyFor('socks5://p:1080', ws('ws://x/'), {}), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /socks5: proxy is not supported/,
    });
    assert.throws(() => proxyFor('env', ws('ws://x/'), { http_proxy: 'http://[bad' }), {
      code: 'WS_ERR_INVALID_ARGUMENT',
      message: /HTTP_PROXY is not a URL/,
    });
  });
});

describe('bypasses (no_proxy)', () => {
  it('matches hosts, domain suffixes, *, ports and IP addresses', () => {
    assert.equal(bypasses('*', 'anything', '80'), true);
    assert.equal(bypasses('example.com', 'example.com', '80'), true);
    assert.equal(bypasses('example.com', 'www.example.com', '80'), true);
    assert.equal(bypasses('example.com', 'notexample.com', '80'), false);
    assert.equal(bypasses('.example.com', 'example.com', '80'), true);
    assert.equal(bypasses('*.example.com', 'a.b.example.com', '80'), true);
    assert.equal(bypasses('Example.COM', 'example.com', '80'), true);
    assert.equal(bypasses('example.com:8080', 'example.com', '8080'), true);
    assert.equal(bypasses('example.com:8080', 'example.com', '80'), false);
    assert.equal(bypasses('10.0.0.1', '10.0.0.1', '80'), true);
    assert.equal(bypasses('10.0.0.1', '10.0.0.10', '80'), false);
    assert.equal(bypasses('[::1]:443', '[::1]', '443'), true);
    assert.equal(bypasses('fe80::1', '[fe80::1]', '80'), true);
    assert.equal(bypasses(' a , ,b ', 'b', '80'), true);
    assert.equal(bypasses('', 'example.com', '80'), false);
  });
});
