// The packed tarball at run time (packed.ts), on every Node `npm test` runs: a CommonJS and an ES
// module application run an echo through wskit's server and client, and report the shape of what
// require() and import gave them (fixtures/*/echo.js).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as clientSource from '../../src/client/index.js';
import * as source from '../../src/index.js';
import * as protocolSource from '../../src/protocol/index.js';
import { installPacked, type PackedProjects, ROOT, run, TIMEOUT } from './packed.js';

/** What require('wskit') has as its own properties: src/index.ts's exports, ws's Server, the statics. */
function requireKeys(): string[] {
  const keys = new Set([...Object.keys(source), ...Object.keys(source.WebSocket), 'Server']);
  keys.delete('default');
  return [...keys].sort();
}

/** Runs the project's echo.js with this test's Node and parses the JSON line it prints. */
async function runEcho(project: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['echo.js'], { cwd: project, timeout: TIMEOUT });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe(`the packed tarball on Node ${process.versions.node}`, () => {
  let packed: PackedProjects | undefined;

  before(async () => {
    packed = await installPacked();
  });

  after(() => packed?.remove());

  it('require("wskit") is the WebSocket class with the API on it, as require("ws") is, and echoes', async () => {
    assert.deepEqual(await runEcho(packed!.cjs), {
      isClass: true,
      selfReference: true,
      serverAlias: true,
      stream: 'function',
      errorShared: true,
      keys: requireKeys(),
      protocolKeys: Object.keys(protocolSource).sort(),
      clientKeys: Object.keys(clientSource).sort(),
      esmSame: true,
      echo: 'hello from cjs',
      bigEcho: 200 * 1024,
      closeCode: 1000,
    });
  });

  it('import gives the same class as default and named exports, shared with require, and echoes', async () => {
    assert.deepEqual(await runEcho(packed!.esm), {
      isClass: true,
      namedSame: true,
      requireSame: true,
      errorShared: true,
      keys: Object.keys(source).sort(),
      protocolKeys: Object.keys(protocolSource).sort(),
      clientKeys: Object.keys(clientSource).sort(),
      clientSame: true,
      echo: 'hello from esm',
      bigEcho: 200 * 1024,
      closeCode: 1000,
    });
  });

  it('wskit/client under the "browser" condition is the ES module build, with the same exports', async () => {
    const script =
      "const c = await import('wskit/client');" +
      "console.log(JSON.stringify({ url: import.meta.resolve('wskit/client'), keys: Object.keys(c).sort() }));";
    const { stdout } = await run(
      process.execPath,
      ['--conditions=browser', '--input-type=module', '-e', script],
      { cwd: packed!.esm, timeout: TIMEOUT },
    );
    const seen = JSON.parse(stdout) as { url: string; keys: string[] };
    assert.match(seen.url, /\/node_modules\/wskit\/dist\/client\/index\.js$/);
    assert.deepEqual(seen.keys, Object.keys(clientSource).sort());
  });

  it('installs the wskit command, which runs from the tarball (the ES module build of dist/)', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const bin = join(packed!.esm, 'node_modules/.bin/wskit');
    const { stdout } = await run(process.execPath, [bin, '--version'], { timeout: TIMEOUT });
    assert.equal(stdout.trim(), version);
  });
});
