// The published package, as users get it: `npm pack` of this checkout (its dist/, built by
// scripts/test.mjs before the tests run) into a temp dir, installed offline into copies of the
// consumer projects in fixtures/ (one CommonJS, one ES module).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TIMEOUT = 60_000;
const FIXTURES = fileURLToPath(new URL('fixtures', import.meta.url));

export type ProjectKind = 'cjs' | 'esm';

export interface PackedProjects {
  /** The temp dir holding the tarball and the projects. */
  work: string;
  cjs: string;
  esm: string;
  remove(): void;
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const env = { ...process.env, npm_config_loglevel: 'error' };
  const { stdout } = await run('npm', args, { cwd, timeout: TIMEOUT, env });
  return stdout;
}

/** Packs this checkout and installs the tarball into a copy of each fixture project. */
export async function installPacked(): Promise<PackedProjects> {
  assert.ok(existsSync(join(ROOT, 'dist/cjs/index.js')), 'dist/ is not built: run `npm run build`');
  const work = mkdtempSync(join(tmpdir(), 'wskit-package-'));
  // --ignore-scripts: dist/ is already built; "prepare" would build it again.
  const packed = JSON.parse(
    await npm(ROOT, ['pack', '--json', '--ignore-scripts', '--pack-destination', work]),
  ) as { filename: string }[];
  const tarball = join(work, packed[0]!.filename);
  const projects = { cjs: join(work, 'cjs'), esm: join(work, 'esm') };
  for (const kind of ['cjs', 'esm'] as const) {
    cpSync(join(FIXTURES, kind), projects[kind], { recursive: true });
    await npm(projects[kind], [
      'install',
      tarball,
      '--offline',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
    ]);
  }
  return { work, ...projects, remove: () => rmSync(work, { recursive: true, force: true }) };
}
