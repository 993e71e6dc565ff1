#!/usr/bin/env node
// The wskit command. The code is compiled from src/cli/ into dist/ by `npm run build`
// (run by `npm ci` and `npm install` through the "prepare" script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `wskit: ${fileURLToPath(main)} is missing: the command is not built.\n` +
      'Run "npm run build" (or "npm ci", which builds it) in the wskit folder, then try again.\n',
  );
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv.slice(2));
