// wskit/client runs in browsers as it is (the chat page loads it as ES modules): its files import
// only each other, and use no Node global. A change that imports node:*, another folder of src/, or
// reaches for Buffer or process fails here before it fails in a page.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const DIR = fileURLToPath(new URL('../../src/client/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

describe('src/client is portable', () => {
  it('imports nothing but its own files', () => {
    assert.ok(files.length > 5);
    for (const file of files) {
      const text = readFileSync(`${DIR}${file}`, 'utf8');
      for (const [, from] of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
        assert.match(from!, /^\.\/[a-z-]+\.js$/, `${file} imports ${from}`);
      }
      assert.doesNotMatch(text, /\bimport\s*\(/, `${file} has a dynamic import`);
      assert.doesNotMatch(text, /\brequire\s*\(/, `${file} calls require`);
    }
  });

  it("type-checks with the browser's globals (lib dom) and without Node's types", async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const tsc = `${root}node_modules/typescript/bin/tsc`;
    const args = ['--ignoreConfig', '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext'];
    args.push('--lib', 'es2023,dom', '--types', '', '--skipLibCheck', `${DIR}index.ts`);
    try {
      await promisify(execFile)(process.execPath, [tsc, ...args], { timeout: 60_000 });
    } catch (err) {
      const { stdout = '' } = err as { stdout?: string };
      assert.fail(`src/client does not type-check as browser code:\n${stdout}`);
    }
  });

  it('uses no Node globals (Buffer, process, setImmediate, __dirname)', () => {
    for (const file of files) {
      const code = readFileSync(`${DIR}${file}`, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      for (const name of ['Buffer', 'process', 'setImmediate', '__dirname', 'NodeJS']) {
        assert.doesNotMatch(code, new RegExp(`\\b${name}\\b`), `${file} uses ${name}`);
      }
    }
  });
});
