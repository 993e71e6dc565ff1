#!/usr/bin/env node
// Runs the whole test suite: lints (Biome) and type-checks everything, installs redis-server and
// chromium from Debian when missing, builds dist/ (the CLI, the benchmarks and the package tests run
// the build), runs every test/**/*.test.ts file with node's test runner through tsx on the Node
// running this script, then the parts that depend on Node's version (MATRIX_PARTS) on each of
// NODE_VERSIONS (scripts/node-versions.mjs, installed from the npm registry when missing).
// Usage: node scripts/test.mjs [file or folder ...]   (default: test/, and the other Nodes)
// With files or folders, only the Node running this script, unless WSKIT_TEST_NODES says otherwise:
// a comma-separated list of NODE_VERSIONS' entries (or their major versions), "all" or "none".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, NODE_VERSIONS } from './node-versions.mjs';
import { ensureSystemDeps } from './system-deps.mjs';

const root = join(fileURLToPath(import.meta.url), '..', '..');
process.chdir(root);

// What runs on every Node version (folders or files): the protocol core, the Node adapters, wskit/client
// over loopback (on the global WebSocket of Node ≥ 22, wskit's on 20), interoperability with other
// implementations, and the published package used by CommonJS and ES module applications
// (test/package/types.test.ts, TypeScript's checks, does not depend on Node's version).
const MATRIX_PARTS = [
  'test/protocol',
  'test/node',
  'test/net',
  'test/legacy',
  'test/http2/server.test.ts',
  'test/http2/client.test.ts',
  'test/http2/proxy.test.ts',
  'test/http2/signal.test.ts',
  'test/http2/port.test.ts',
  'test/http2/conformance.test.ts',
  'test/http2/deflate-conformance.test.ts',
  'test/interop',
  'test/package/runtime.test.ts',
  'test/client/topics-client.test.ts',
  'test/client/durable-server.test.ts',
];

function inMatrix(file) {
  const path = file.split(sep).join('/');
  return MATRIX_PARTS.some((part) => path === part || path.startsWith(`${part}/`));
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Each run's failed tests, one line each (scripts/failures-reporter.mjs), printed again at the end.
const failuresDir = join(root, 'test-artifacts', 'failures');

function testArgs(files, failuresFile) {
  return [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'failures-reporter.mjs')}`,
    `--test-reporter-destination=${failuresFile}`,
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ];
}

function otherNodes(explicitTargets) {
  const wanted = process.env.WSKIT_TEST_NODES ?? (explicitTargets ? 'none' : 'all');
  if (wanted === 'none') return [];
  if (wanted === 'all') return NODE_VERSIONS;
  return wanted.split(',').map((w) => {
    const version = NODE_VERSIONS.find((v) => v === w || v.split('.')[0] === w);
    if (version === undefined) {
      console.error(`WSKIT_TEST_NODES: ${w} is not one of ${NODE_VERSIONS.join(', ')}`);
      process.exit(1);
    }
    return version;
  });
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

// Every Node's run goes ahead when an earlier one failed, so that one `npm test` reports them all.
const failed = [];
rmSync(failuresDir, { recursive: true, force: true });
mkdirSync(failuresDir, { recursive: true });
function runTests(node, version, testFiles) {
  const failuresFile = join(failuresDir, `node-${version}.txt`);
  const r = spawnSync(node, testArgs(testFiles, failuresFile), { stdio: 'inherit' });
  if (r.status !== 0) {
    let lines = '';
    try {
      lines = readFileSync(failuresFile, 'utf8').trim();
    } catch {}
    failed.push(
      `Node ${version} (exit ${r.status ?? r.signal})${lines ? `:\n${lines.replace(/^/gm, '  ')}` : ''}`,
    );
  }
}

runTests(process.execPath, process.versions.node, files);
const matrixFiles = files.filter(inMatrix);
for (const version of matrixFiles.length > 0 ? otherNodes(targets.length > 0) : []) {
  const node = ensureNode(root, version);
  if (node === null) continue;
  console.log(`\n# Node ${version}: ${matrixFiles.length} test files from ${MATRIX_PARTS.join(', ')}`);
  runTests(node, version, matrixFiles);
}
if (failed.length > 0) {
  console.error(`\nTests failed on ${failed.join('\n')}`);
  process.exit(1);
}
