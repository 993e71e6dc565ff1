// Shared by the micro-benchmarks: timing (median of several samples, each long enough to be
// measured), machine description, and Markdown tables.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';

export interface Options {
  /** Samples taken; the median is reported (default 7, or BENCH_MICRO_SAMPLES). */
  samples?: number;
  /** Each sample repeats the work until it lasts this long (default 100 ms, or BENCH_MICRO_MS). */
  minMs?: number;
}

const DEFAULT_SAMPLES = Number(process.env.BENCH_MICRO_SAMPLES ?? 7);
const DEFAULT_MIN_MS = Number(process.env.BENCH_MICRO_MS ?? 100);

/**
 * Times `work` (one call = one unit of `unitsPerCall`, e.g. bytes or frames) and returns the median
 * units per second over `samples` samples. `prepare`, if given, runs before each call, untimed (for
 * work that consumes its input, like unmasking in place).
 */
export function measure(
  work: () => void,
  unitsPerCall: number,
  options: Options & { prepare?: () => void } = {},
): number {
  const samples = options.samples ?? DEFAULT_SAMPLES;
  const minMs = options.minMs ?? DEFAULT_MIN_MS;
  const prepare = options.prepare;
  // Warm up (lets the JIT compile the loop) and find how many calls fill one sample.
  let calls = 1;
  for (;;) {
    const ms = timeCalls(work, calls, prepare);
    if (ms >= minMs / 4) {
      calls = Math.max(1, Math.ceil((calls * minMs) / Math.max(ms, 0.001)));
      break;
    }
    calls *= 4;
  }
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    const ms = timeCalls(work, calls, prepare);
    rates.push((calls * unitsPerCall) / (ms / 1000));
  }
  return median(rates);
}

function timeCalls(work: () => void, calls: number, prepare: (() => void) | undefined): number {
  if (prepare === undefined) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) work();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }
  let total = 0n;
  for (let i = 0; i < calls; i++) {
    prepare();
    const t0 = process.hrtime.bigint();
    work();
    total += process.hrtime.bigint() - t0;
  }
  return Number(total) / 1e6;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function machine(): string {
  let cpu = 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return `${cpu}, ${availableParallelism()} CPUs (nproc), Node ${process.version}, ${process.platform}-${process.arch}`;
}

export function gbPerSecond(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
}

export function perSecond(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M/s`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k/s`;
  return `${rate.toFixed(0)} /s`;
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Whether the module with this import.meta.url is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === url;
}
