// The short seeded pass of a fuzz target that the test suite runs: a fixed seed and a bounded number
// of iterations. It fails on any oracle violation (printing the replay command) and when the inputs no
// longer reach the outcomes they should (a generator that stopped breaking rules tests nothing).
import assert from 'node:assert/strict';
import { type FuzzTarget, formatSummary, type RunSummary, runTarget } from './runner.js';

export const TEST_SEED = 0x5eed2026;

export async function seededPass(
  target: FuzzTarget,
  iterations: number,
  mustReach: string[],
): Promise<RunSummary> {
  const summary = await runTarget(target, { seed: TEST_SEED, iterations });
  const report = `${formatSummary(summary)}\n${summary.failures.map((f) => f.details).join('\n')}`;
  assert.deepEqual(
    summary.failures.map((f) => f.message),
    [],
    report,
  );
  assert.equal(summary.iterations, iterations);
  for (const kind of mustReach) {
    assert.ok(summary.kinds.has(kind), `no iteration reached "${kind}"\n${report}`);
  }
  return summary;
}
