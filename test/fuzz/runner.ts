// Runs a fuzz target: for a number of iterations (the test suite) or for a time (npm run fuzz), each
// iteration with its own generator derived from the seed, so that any one can be replayed alone.
// Collects throughput, flags inputs whose processing time per byte is far above the median (the
// linear-time oracle; never asserted in tests), and records failures with their replay command.
import { performance } from 'node:perf_hooks';
import { iterationSeed, Rng } from './prng.js';

export interface IterationResult {
  /** Bytes of input processed. */
  bytes: number;
  /** Nanoseconds spent in the code under test on those bytes (one delivery). */
  ns: number;
  /**
   * The outcome class (e.g. "done", "error 400", "WS_ERR_INVALID_UTF8"): counted in the summary, and
   * time per byte is compared with the median of inputs of the same class (a head refused at its
   * first line costs less per byte than one read to the end).
   */
  kind: string;
}

export interface FuzzTarget {
  name: string;
  /** Whether ns per byte measures the code under test (false when it is dominated by I/O waits). */
  timed: boolean;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** One iteration: generates an input from `rng`, runs it, checks the oracles (throws FuzzFailure). */
  iterate(rng: Rng): IterationResult | Promise<IterationResult>;
  /** Lines of target-specific figures for the summary (e.g. the server's RSS). */
  report?(): string[];
}

/** An oracle was violated; `details` describes the input. */
export class FuzzFailure extends Error {
  readonly details: string;
  constructor(message: string, details = '') {
    super(message);
    this.name = 'FuzzFailure';
    this.details = details;
  }
}

export interface RunOptions {
  seed: number;
  /** Stop after this many iterations... */
  iterations?: number;
  /** ...or after this many seconds. */
  seconds?: number;
  /** Run only this iteration (replay). */
  only?: number;
  /** Stop at the first failure (default true). */
  stopOnFailure?: boolean;
  log?: (line: string) => void;
}

export interface Failure {
  iteration: number;
  message: string;
  details: string;
  replay: string;
}

export interface SlowInput {
  iteration: number;
  kind: string;
  /** The median ns per byte of the kind. */
  median: number;
  bytes: number;
  nsPerByte: number;
}

export interface RunSummary {
  target: string;
  seed: number;
  iterations: number;
  bytes: number;
  seconds: number;
  medianNsPerByte: number;
  /** Iterations per outcome class. */
  kinds: Map<string, number>;
  /** Median ns per byte by input size: [smallest size of the bucket, median, samples]. */
  buckets: Array<[number, number, number]>;
  /** Per outcome class, size buckets whose median ns per byte is over GROWTH_FACTOR x that of its smallest: superlinear time. */
  growth: string[];
  /** Inputs (of at least MIN_TIMED_BYTES) whose time per byte stayed over SLOW_FACTOR x the median on re-runs. */
  slow: SlowInput[];
  failures: Failure[];
  extra: string[];
}

/** Inputs shorter than this are too short for their time per byte to mean anything. */
const MIN_TIMED_BYTES = 2048;
const SLOW_FACTOR = 25;
const SLOW_CANDIDATES = 8;
/** Inputs are also bucketed by size (2-8 KiB, 8-32 KiB, 32-128 KiB, more): linear time keeps ns per byte flat. */
const BUCKETS = [2048, 8192, 32768, 131072];
const GROWTH_FACTOR = 3;
const MIN_BUCKET_SAMPLES = 10;

export function replayCommand(target: string, seed: number, iteration: number): string {
  return `npm run fuzz -- --target ${target} --seed ${seed} --iteration ${iteration}`;
}

function describeError(err: unknown): { message: string; details: string } {
  if (err instanceof FuzzFailure) return { message: err.message, details: err.details };
  if (err instanceof Error) return { message: `threw ${err.name}: ${err.message}`, details: err.stack ?? '' };
  return { message: `threw ${String(err)}`, details: '' };
}

export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<RunSummary> {
  const log = options.log ?? (() => {});
  const stopOnFailure = options.stopOnFailure ?? true;
  const failures: Failure[] = [];
  const seen = new Set<string>();
  const samples: number[] = [];
  const kinds = new Map<string, number>();
  const samplesByKind = new Map<string, number[]>();
  const samplesBySize: number[][] = BUCKETS.map(() => []);
  const kindBySize = new Map<string, number[][]>();
  let candidates: Array<{ iteration: number; kind: string; bytes: number; nsPerByte: number }> = [];
  let bytes = 0;
  let iterations = 0;
  const began = performance.now();
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : began + options.seconds * 1000;
  const limit = options.only !== undefined ? 1 : (options.iterations ?? Number.POSITIVE_INFINITY);
  let nextLog = began + 10_000;
  await target.start?.();
  try {
    for (let i = options.only ?? 0; iterations < limit && performance.now() < deadline; i++) {
      iterations++;
      try {
        const result = await target.iterate(new Rng(iterationSeed(options.seed, i)));
        bytes += result.bytes;
        kinds.set(result.kind, (kinds.get(result.kind) ?? 0) + 1);
        if (target.timed && result.bytes >= MIN_TIMED_BYTES) {
          const nsPerByte = result.ns / result.bytes;
          samples.push(nsPerByte);
          let b = BUCKETS.length - 1;
          while (result.bytes < BUCKETS[b]) b--;
          samplesBySize[b].push(nsPerByte);
          let byKind = kindBySize.get(result.kind);
          if (byKind === undefined) kindBySize.set(result.kind, (byKind = BUCKETS.map(() => [])));
          byKind[b].push(nsPerByte);
          let list = samplesByKind.get(result.kind);
          if (list === undefined) samplesByKind.set(result.kind, (list = []));
          list.push(nsPerByte);
          if (
            candidates.length < SLOW_CANDIDATES ||
            nsPerByte > candidates[candidates.length - 1].nsPerByte
          ) {
            candidates.push({ iteration: i, kind: result.kind, bytes: result.bytes, nsPerByte });
            candidates.sort((a, b) => b.nsPerByte - a.nsPerByte);
            candidates = candidates.slice(0, SLOW_CANDIDATES);
          }
        }
      } catch (err) {
        const { message, details } = describeError(err);
        const failure = {
          iteration: i,
          message,
          details,
          replay: replayCommand(target.name, options.seed, i),
        };
        if (!seen.has(message)) {
          seen.add(message);
          failures.push(failure);
          log(`FAIL ${target.name} iteration ${i}: ${message}\n  replay: ${failure.replay}\n${details}`);
        }
        if (stopOnFailure || failures.length >= 20) break;
      }
      const now = performance.now();
      if (now >= nextLog) {
        nextLog = now + 10_000;
        log(
          `  ${target.name}: ${iterations} iterations, ${(bytes / 1e6).toFixed(1)} MB, ${((now - began) / 1000).toFixed(0)} s`,
        );
      }
    }
  } finally {
    await target.stop?.();
  }
  const seconds = (performance.now() - began) / 1000;
  const median = medianOf(samples);
  // A candidate is slow only if it stays slow when run again (GC pauses and a shared machine make
  // single measurements noisy): the best of three re-runs is compared with the median of its kind.
  const slow: SlowInput[] = [];
  if (median > 0 && options.only === undefined) {
    for (const c of candidates) {
      const kindSamples = samplesByKind.get(c.kind) ?? [];
      // Too few of its kind for a median: compared with the median of all.
      const kindMedian = kindSamples.length >= 20 ? medianOf(kindSamples) : median;
      if (c.nsPerByte < SLOW_FACTOR * kindMedian) continue;
      let best = c.nsPerByte;
      for (let k = 0; k < 3; k++) {
        try {
          const r = await target.iterate(new Rng(iterationSeed(options.seed, c.iteration)));
          best = Math.min(best, r.ns / r.bytes);
        } catch {
          break;
        }
      }
      if (best >= SLOW_FACTOR * kindMedian) slow.push({ ...c, nsPerByte: best, median: kindMedian });
    }
  }
  const bucketsOf = (bySize: number[][]) => {
    const out: Array<[number, number, number]> = [];
    BUCKETS.forEach((size, b) => {
      if (bySize[b].length >= MIN_BUCKET_SAMPLES) out.push([size, medianOf(bySize[b]), bySize[b].length]);
    });
    return out;
  };
  const buckets = bucketsOf(samplesBySize);
  // Per outcome class (so that a class that is costly per byte at every size does not pass for growth).
  const growth: string[] = [];
  for (const [kind, bySize] of kindBySize) {
    const b = bucketsOf(bySize);
    for (const [size, m] of b.slice(1)) {
      if (m > GROWTH_FACTOR * b[0][1]) {
        growth.push(
          `${kind}: inputs from ${size / 1024} KiB take ${(m / b[0][1]).toFixed(1)}x the time per byte of those from ${b[0][0] / 1024} KiB`,
        );
      }
    }
  }
  return {
    buckets,
    growth,
    target: target.name,
    seed: options.seed,
    iterations,
    bytes,
    seconds,
    medianNsPerByte: median,
    kinds,
    slow,
    failures,
    extra: target.report?.() ?? [],
  };
}

export function formatSummary(s: RunSummary): string {
  const lines = [
    `${s.target}: ${s.iterations} iterations in ${s.seconds.toFixed(1)} s (${(s.iterations / s.seconds).toFixed(0)}/s), ${(s.bytes / 1e6).toFixed(2)} MB (${(s.bytes / 1e6 / s.seconds).toFixed(2)} MB/s), seed ${s.seed}`,
  ];
  if (s.medianNsPerByte > 0)
    lines.push(
      `  median ${s.medianNsPerByte.toFixed(1)} ns/byte over inputs of ${MIN_TIMED_BYTES} bytes or more`,
    );
  if (s.buckets.length > 0) {
    lines.push(
      `  ns/byte by input size: ${s.buckets.map(([size, m, n]) => `>=${size / 1024} KiB ${m.toFixed(1)} (${n})`).join(', ')}`,
    );
  }
  for (const g of s.growth) lines.push(`  GROWTH: ${g}`);
  const kinds = [...s.kinds].sort((a, b) => b[1] - a[1]);
  lines.push(
    `  outcomes: ${kinds.map(([k, n]) => `${k} ${((100 * n) / s.iterations).toFixed(1)}%`).join(', ')}`,
  );
  for (const x of s.slow) {
    lines.push(
      `  SLOW iteration ${x.iteration} (${x.kind}): ${x.nsPerByte.toFixed(1)} ns/byte, ${(x.nsPerByte / x.median).toFixed(0)}x the median of its kind, on ${x.bytes} bytes; replay: ${replayCommand(s.target, s.seed, x.iteration)}`,
    );
  }
  for (const line of s.extra) lines.push(`  ${line}`);
  lines.push(s.failures.length === 0 ? '  no failures' : `  ${s.failures.length} distinct failure(s)`);
  for (const f of s.failures)
    lines.push(`  FAIL iteration ${f.iteration}: ${f.message}\n    replay: ${f.replay}`);
  return lines.join('\n');
}

function medianOf(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Nanoseconds since `start` (a performance.now() value). */
export function elapsedNs(start: number): number {
  return (performance.now() - start) * 1e6;
}
