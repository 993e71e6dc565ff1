// Installs the programs the tests need from Debian's packages when they are missing, so that
// `npm test` passes on a fresh machine: redis-server (the Redis broker tests), chromium (the chat
// app's browser tests) and python3-websockets (interoperability with python-websockets). Needs root
// and apt-get; elsewhere it says what to install and carries on (the tests that need a missing
// program fail with a message naming it).
import { spawnSync } from 'node:child_process';

const NEEDED = [
  { command: 'redis-server', packages: ['redis-server'] },
  { command: 'chromium', packages: ['chromium'] },
  // python-websockets, for the interoperability tests (Debian's, for Debian's python3)
  {
    check: '/usr/bin/python3 -c "import websockets"',
    command: 'python3-websockets',
    packages: ['python3-websockets'],
  },
];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function present(dep) {
  if (dep.check !== undefined) return spawnSync('sh', ['-c', dep.check], { stdio: 'ignore' }).status === 0;
  return has(dep.command);
}

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

export function ensureSystemDeps() {
  const missing = NEEDED.filter((d) => !present(d));
  if (missing.length === 0) return;
  const packages = missing.flatMap((d) => d.packages);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    console.warn(
      `Missing ${missing.map((d) => d.command).join(', ')}: install Debian's ${packages.join(' ')} (needs root and apt-get).`,
    );
    return;
  }
  console.log(`Installing what the tests need: ${packages.join(' ')}`);
  if (
    !run('apt-get', ['update', '-qq']) ||
    !run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages])
  ) {
    console.warn(`Could not install ${packages.join(' ')}; the tests that need them will fail.`);
  }
}
