#!/usr/bin/env node
// Builds dist/ (`npm run build`): the ES module build of all of src/ into dist/ (the command-line
// tool, the chat app and the benchmarks run it), then the CommonJS build of the library (src/index.ts
// and src/protocol/index.ts with what they import) into dist/cjs/, with the public type declarations.
// The package's entry points (entry/) load dist/cjs/ whether imported or required: see
// docs/api.md#package-entry-points.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

// From scratch (the whole build takes seconds), so that no file of a source since moved or deleted is
// left behind to be published.
rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// package.json says "type": "module"; this one makes Node (and TypeScript) read dist/cjs/*.js as
// CommonJS.
mkdirSync(join(root, 'dist/cjs'), { recursive: true });
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');

// stripInternal drops the @internal members from the declarations, among them methods by which a
// class implements an interface (WebSocket's ProtocolHandler callbacks): the class's
// `implements` clause would then not type-check for users who check libraries (skipLibCheck off).
// Types are structural, so the clause tells a user nothing the class's members do not: drop it.
const IMPLEMENTS = /^((?:export )?(?:declare )?(?:abstract )?class [^\n{]*?) implements [^\n{]+\{$/gm;
for (const entry of readdirSync(join(root, 'dist/cjs'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const stripped = text.replace(IMPLEMENTS, '$1 {');
  if (stripped !== text) writeFileSync(file, stripped);
}
