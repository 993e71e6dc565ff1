// The command reaching TLS and HTTP/2: `wskit echo --tls-cert F --tls-key F [--http2]` and
// `wskit connect --http2`, run as child processes (the built command: npm run build).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { runWskit, stopAll, wskit } from '../cli/helpers.js';
import { certificate } from './helpers.js';

let dir: string;
let certFile: string;
let keyFile: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wskit-h2-cli-'));
  const { cert, key } = certificate();
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, cert);
  writeFileSync(keyFile, key);
});
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(stopAll);

async function echo(...args: string[]): Promise<string> {
  const cli = wskit('echo', '--port', '0', ...args);
  const [, url] = await cli.waitForLine('stdout', /listening on (wss?:\/\/\S+)/);
  return url;
}

describe('wskit echo --tls-cert --tls-key [--http2], wskit connect --http2', () => {
  it('serves wss:// over HTTP/2 and HTTP/1.1 on one port; connect reaches it both ways', async () => {
    const url = await echo('--tls-cert', certFile, '--tls-key', keyFile, '--http2', '--quiet');
    assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const over2 = await runWskit(['connect', '--http2', '--no-check', '--quiet', url], 'over two\n');
    assert.equal(over2.stdout, 'over two\n', over2.stderr);
    assert.equal(over2.status, 0);
    const over1 = await runWskit(['connect', '--no-check', '--quiet', url], 'over one\n');
    assert.equal(over1.stdout, 'over one\n', over1.stderr);
  });

  it('serves cleartext HTTP/2 (h2c) with --http2 alone', async () => {
    const url = await echo('--http2', '--quiet');
    assert.match(url, /^ws:\/\//);
    const result = await runWskit(['connect', '--http2', '--quiet', url], 'h2c\n');
    assert.equal(result.stdout, 'h2c\n', result.stderr);
  });

  it('connect --http2 to a server without HTTP/2 fails with exit status 1 and says why', async () => {
    const url = await echo('--quiet');
    const result = await runWskit(['connect', '--http2', url], 'x\n');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /HTTP\/2/);
  });

  it('--tls-cert without --tls-key is a usage error (exit status 2)', async () => {
    const result = await runWskit(['echo', '--port', '0', '--tls-cert', certFile]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--tls-cert and --tls-key go together/);
  });
});
