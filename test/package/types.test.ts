// The packed tarball's types (packed.ts): tsc, with skipLibCheck off so that wskit's published
// declarations are checked too, type-checks each fixture's consumer.ts under moduleResolution node16
// (CommonJS and ES module) and bundler, against @types/node 20 (the repository's) and the
// devDependencies @types/node-22, -24 and -26 (npm aliases), the Node lines wskit supports.
// TypeScript does not depend on the Node running it, so `npm test` runs this file on one Node only.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installPacked, type PackedProjects, ROOT, run, TIMEOUT } from './packed.js';

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const NODE_TYPES = ['node', 'node-22', 'node-24', 'node-26'];
// node16 reads cjs/consumer.ts as CommonJS and esm/consumer.ts as an ES module (their package.json
// "type"), so one run checks both; how a resolution reads wskit's types does not depend on
// @types/node, so bundler runs once.
const CHECKS = [
  ...NODE_TYPES.map((types) => ({
    types,
    module: 'node16',
    moduleResolution: 'node16',
    kinds: ['cjs', 'esm'],
  })),
  { types: 'node', module: 'esnext', moduleResolution: 'bundler', kinds: ['esm'] },
] as const;

describe('the packed tarball type-checks', () => {
  let packed: PackedProjects | undefined;

  before(async () => {
    packed = await installPacked();
    // One type root per @types/node version, each holding it as `node`.
    for (const types of NODE_TYPES) {
      mkdirSync(join(packed.work, `types-${types}`));
      symlinkSync(
        join(ROOT, 'node_modules/@types', types),
        join(packed.work, `types-${types}`, 'node'),
        'dir',
      );
    }
  });

  after(() => packed?.remove());

  for (const { types, module, moduleResolution, kinds } of CHECKS) {
    const what = kinds.map((k) =>
      k === 'cjs' ? '`import WebSocket = require("wskit")` (CommonJS)' : 'imports (ES module)',
    );
    it(`${what.join(' and ')} under ${moduleResolution}, with @types/${types}`, async () => {
      const work = packed!.work;
      const config = `tsconfig.${moduleResolution}.${types}.json`;
      const compilerOptions = {
        target: 'es2022',
        lib: ['es2023'],
        module,
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(work, `types-${types}`)],
      };
      const files = kinds.map((k) => `${k}/consumer.ts`);
      writeFileSync(join(work, config), JSON.stringify({ compilerOptions, files }));
      try {
        await run(process.execPath, [TSC, '-p', config], { cwd: work, timeout: TIMEOUT });
      } catch (err) {
        const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
        assert.fail(`tsc -p ${config} failed in ${work}:\n${stdout}${stderr}`);
      }
    });
  }
});
