import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { AllowedOrigins, listeningOrigins, normalizeOrigin } from '../../src/chat/allowed-origins.js';

type Interfaces = ReturnType<typeof networkInterfaces>;
const iface = (address: string, family: 'IPv4' | 'IPv6') =>
  ({ address, family, netmask: '', mac: '', internal: false, cidr: null }) as NonNullable<
    Interfaces[string]
  >[number];
const INTERFACES: Interfaces = {
  lo: [iface('127.0.0.1', 'IPv4'), iface('::1', 'IPv6')],
  eth0: [iface('192.168.1.20', 'IPv4'), iface('fe80::1', 'IPv6')],
};

describe('listeningOrigins', () => {
  it('a loopback address: itself and localhost', () => {
    assert.deepEqual(listeningOrigins('127.0.0.1', 8080, INTERFACES), [
      'http://127.0.0.1:8080',
      'http://localhost:8080',
    ]);
    assert.deepEqual(listeningOrigins('::1', 8080, INTERFACES), [
      'http://[::1]:8080',
      'http://localhost:8080',
    ]);
  });

  it('another address: itself only', () => {
    assert.deepEqual(listeningOrigins('192.168.1.20', 80, INTERFACES), ['http://192.168.1.20']);
  });

  it("a wildcard: every interface's address (0.0.0.0: IPv4 only), and localhost", () => {
    assert.deepEqual(listeningOrigins('0.0.0.0', 8080, INTERFACES), [
      'http://127.0.0.1:8080',
      'http://192.168.1.20:8080',
      'http://localhost:8080',
    ]);
    assert.deepEqual(listeningOrigins('::', 8080, INTERFACES), [
      'http://127.0.0.1:8080',
      'http://[::1]:8080',
      'http://192.168.1.20:8080',
      'http://[fe80::1]:8080',
      'http://localhost:8080',
    ]);
  });
});

describe('AllowedOrigins', () => {
  const allowed = new AllowedOrigins(['https://Chat.Example.com:443/'], () => ({
    address: '127.0.0.1',
    port: 8080,
  }));

  it('allows the listening origins, those given (normalized), and no Origin at all', () => {
    for (const origin of [
      'http://127.0.0.1:8080',
      'http://LOCALHOST:8080',
      'https://chat.example.com',
      undefined,
    ]) {
      assert.equal(allowed.allows(origin), true, origin);
    }
  });

  it('refuses the others: a rebinding host, another port or scheme, null, garbage', () => {
    for (const origin of [
      'http://evil.example:8080',
      'http://127.0.0.1:8081',
      'https://127.0.0.1:8080',
      'http://chat.example.com',
      'null',
      '',
      'http://[',
    ]) {
      assert.equal(allowed.allows(origin), false, origin);
    }
  });

  it('refuses to be given something that is not an origin', () => {
    for (const bad of [
      'chat.example.com',
      'https://x.example/app',
      'https://x.example?q',
      'ws://x.example',
      '*',
    ]) {
      assert.throws(() => normalizeOrigin(bad), { code: 'WS_ERR_INVALID_ARGUMENT' }, bad);
    }
  });
});
