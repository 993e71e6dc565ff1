// `wskit connect --proxy URL`, run as a child process, through the test's CONNECT proxy.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { runWskit, stopAll } from '../cli/helpers.js';
import { defer, runCleanups, serve, type WebSocket } from '../node/helpers.js';
import { startProxy } from './connect-proxy.js';

afterEach(async () => {
  stopAll();
  await runCleanups();
});

async function setup() {
  const s = await serve();
  s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  const proxy = await startProxy({ auth: 'me:pw' });
  defer(() => proxy.close());
  return { s, proxy };
}

describe('wskit connect --proxy', () => {
  it('connects through the proxy with the credentials of its URL', async () => {
    const { s, proxy } = await setup();
    const url = `http://me:pw@127.0.0.1:${proxy.port}`;
    const exit = await runWskit(['connect', '--proxy', url, `${s.url}/echo`], 'through\n');
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(exit.stdout, 'through\n');
    assert.deepEqual(proxy.requests, [`127.0.0.1:${s.port}`]);
  });

  it('reports a proxy asking for credentials and exits non-zero', async () => {
    const { s, proxy } = await setup();
    const exit = await runWskit(['connect', '--proxy', proxy.url, s.url], '');
    assert.equal(exit.status, 1, exit.stderr);
    assert.match(exit.stderr, /requires authentication \(407/);
  });

  it('refuses a proxy URL it cannot use as a usage error', async () => {
    const exit = await runWskit(['connect', '--proxy', 'socks5://127.0.0.1:1', 'ws://127.0.0.1:1/'], '');
    assert.equal(exit.status, 2, exit.stderr);
    assert.match(exit.stderr, /socks5: proxy is not supported/);
  });
});
