// npm run fuzz -- [--seconds N] [--seed S] [--target NAME] [--iteration I] [--keep-going]
// Runs the fuzz targets of test/fuzz one after the other (or the one named), each for N seconds
// (default 60), and prints the seed, the throughput and any failure with the command that replays it.
// See docs/fuzzing.md.
import { parseArgs } from 'node:util';
import { extensionsTarget } from '../test/fuzz/extensions-target.js';
import { protocolTarget } from '../test/fuzz/protocol-target.js';
import { requestHeadTarget } from '../test/fuzz/request-head-target.js';
import { type FuzzTarget, formatSummary, runTarget } from '../test/fuzz/runner.js';
import { serverTarget } from '../test/fuzz/server-target.js';

const targets: Record<string, () => FuzzTarget> = {
  protocol: protocolTarget,
  'request-head': requestHeadTarget,
  extensions: extensionsTarget,
  server: () => serverTarget({ child: true }),
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      seed: { type: 'string' },
      target: { type: 'string' },
      iteration: { type: 'string' },
      'keep-going': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number; got ${values.seconds}`);
  const seed = values.seed === undefined ? (Math.random() * 0x100000000) >>> 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`--seed must be an integer from 0 to 2^32 - 1; got ${values.seed}`);
  }
  const names = values.target === undefined ? Object.keys(targets) : values.target.split(',');
  for (const name of names) {
    if (!(name in targets))
      throw new Error(`Unknown target ${name}: use one of ${Object.keys(targets).join(', ')}`);
  }
  const only = values.iteration === undefined ? undefined : Number(values.iteration);
  console.log(`fuzz seed ${seed} (replay with --seed ${seed}); targets ${names.join(', ')}`);
  let failed = 0;
  for (const name of names) {
    const summary = await runTarget(targets[name](), {
      seed,
      seconds: only === undefined ? seconds : undefined,
      only,
      stopOnFailure: !values['keep-going'],
      log: (line) => console.log(line),
    });
    console.log(formatSummary(summary));
    if (only !== undefined && summary.failures.length === 0) console.log(`  iteration ${only} passes`);
    failed += summary.failures.length;
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
