// examples/http2.mjs runs: a page request and two WebSockets on one HTTP/2 session (the built
// package: npm run build).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const EXAMPLE = fileURLToPath(new URL('../../examples/http2.mjs', import.meta.url));

it('examples/http2.mjs: a page and two WebSockets over one HTTP/2 session, then exits', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [EXAMPLE], { timeout: 10_000 }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
  assert.deepEqual(stdout.trim().split('\n').sort(), [
    '/a echoes hello (HTTP/2.0)',
    '/b echoes hello (HTTP/2.0)',
    'a page, over HTTP/2.0',
  ]);
});
