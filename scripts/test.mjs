#!/usr/bin/env node
// Runs the whole test suite: lints (Biome) and type-checks everything, installs redis-server and
// chromium from Debian when missing, builds dist/ (the CLI and the benchmarks run the build), then
// runs every test/**/*.test.ts file with node's test runner through tsx.
// Usage: node scripts/test.mjs [file or folder ...]   (default: test/)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemDeps } from './system-deps.mjs';

const root = join(fileURLToPath(import.meta.url), '..', '..');
process.chdir(root);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(relative(root, path));
  }
  return out;
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : ['test']).flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

if (targets.length === 0) {
  run(process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '.']);
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
}
ensureSystemDeps();
run(process.execPath, [join(root, 'scripts/build.mjs')]);
run(process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  ...files,
]);
