// Turns the case tables into node:test tests, one per case, named "<id> <title>".
import { describe, it } from 'node:test';
import type { CaseContext, ConformanceCase, Side } from './case.js';
import { groups } from './cases/index.js';
import { features, name } from './impl.js';

const DEFAULT_CASE_TIMEOUT_MS = 10_000;

function skipReason(c: ConformanceCase, side: Side): string | undefined {
  if (c.requires && !features[c.requires]) return `${name} has no ${c.requires} option`;
  // WSKIT_CONFORMANCE_RUN_DEVIATIONS=1 runs the cases skipped as known deviations, to confirm they still fail.
  if (process.env.WSKIT_CONFORMANCE_RUN_DEVIATIONS === '1') return undefined;
  return c.skip?.(name, side);
}

/**
 * Declares every case for `side`. `setup` connects a fresh endpoint under test for one case and returns
 * the case context plus a cleanup that must run whatever the outcome.
 */
export function declareCases(
  side: Side,
  setup: (c: ConformanceCase) => Promise<{ ctx: CaseContext; cleanup: () => Promise<void> }>,
): void {
  for (const group of groups) {
    describe(`${group.id} ${group.title}`, () => {
      for (const c of group.cases) {
        if (c.only && c.only !== side) continue;
        const skip = skipReason(c, side);
        it(`${c.id} ${c.title}`, {
          skip: skip ?? false,
          timeout: c.timeout ?? DEFAULT_CASE_TIMEOUT_MS,
        }, async () => {
          const { ctx, cleanup } = await setup(c);
          try {
            await c.run(ctx);
          } finally {
            await cleanup();
          }
        });
      }
    });
  }
}
