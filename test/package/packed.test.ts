// The published package, as users get it: `npm pack` of this checkout (its dist/, built by
// scripts/test.mjs before the tests run) installed offline into a CommonJS and an ES module project
// (fixtures/), which run an echo through wskit's server and client, and type-check a consumer with
// TypeScript under moduleResolution node16 and bundler.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as source from '../../src/index.js';
import * as protocolSource from '../../src/protocol/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('fixtures', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const TIMEOUT = 60_000;

/** What require('wskit') has as its own properties: src/index.ts's exports, ws's Server, the statics. */
function requireKeys(): string[] {
  const keys = new Set([...Object.keys(source), ...Object.keys(source.WebSocket), 'Server']);
  keys.delete('default');
  return [...keys].sort();
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, {
    cwd,
    timeout: TIMEOUT,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  return stdout;
}

/** Runs the fixture's echo.js with this test's Node and parses the JSON line it prints. */
async function runEcho(project: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['echo.js'], { cwd: project, timeout: TIMEOUT });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Type-checks the fixture's consumer.ts, the installed wskit's declarations included (skipLibCheck off). */
async function typeCheck(
  project: string,
  module: 'node16' | 'esnext',
  moduleResolution: 'node16' | 'bundler',
) {
  const config = `tsconfig.${moduleResolution}.json`;
  writeFileSync(
    join(project, config),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        lib: ['es2023'],
        module,
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }),
  );
  try {
    await run(process.execPath, [TSC, '-p', config], { cwd: project, timeout: TIMEOUT });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    assert.fail(`tsc (${moduleResolution}) failed in ${project}:\n${stdout}${stderr}`);
  }
}

describe('the packed tarball', () => {
  let work = '';
  const projects = { cjs: '', esm: '' };

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'dist/cjs/index.js')), 'dist/ is not built: run `npm run build`');
    work = mkdtempSync(join(tmpdir(), 'wskit-package-'));
    // --ignore-scripts: dist/ is already built (by scripts/test.mjs); "prepare" would build it again.
    const packed = JSON.parse(
      await npm(ROOT, ['pack', '--json', '--ignore-scripts', '--pack-destination', work]),
    ) as { filename: string }[];
    const tarball = join(work, packed[0]!.filename);
    for (const kind of ['cjs', 'esm'] as const) {
      const project = join(work, kind);
      cpSync(join(FIXTURES, kind), project, { recursive: true });
      await npm(project, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock']);
      projects[kind] = project;
    }
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('require("wskit") is the WebSocket class with the API on it, as require("ws") is, and echoes', async () => {
    const seen = await runEcho(projects.cjs);
    assert.deepEqual(seen, {
      isClass: true,
      selfReference: true,
      serverAlias: true,
      stream: 'function',
      errorShared: true,
      keys: requireKeys(),
      protocolKeys: Object.keys(protocolSource).sort(),
      esmSame: true,
      echo: 'hello from cjs',
      closeCode: 1000,
    });
  });

  it('import gives the same class as default and named exports, shared with require, and echoes', async () => {
    const seen = await runEcho(projects.esm);
    assert.deepEqual(seen, {
      isClass: true,
      namedSame: true,
      requireSame: true,
      errorShared: true,
      keys: Object.keys(source).sort(),
      protocolKeys: Object.keys(protocolSource).sort(),
      echo: 'hello from esm',
      closeCode: 1000,
    });
  });

  it('type-checks `import WebSocket = require("wskit")` in a CommonJS project (node16)', async () => {
    await typeCheck(projects.cjs, 'node16', 'node16');
  });

  it('type-checks default and named imports in an ES module project (node16)', async () => {
    await typeCheck(projects.esm, 'node16', 'node16');
  });

  it('type-checks default and named imports in an ES module project (bundler)', async () => {
    await typeCheck(projects.esm, 'esnext', 'bundler');
  });
});
