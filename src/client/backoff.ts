/**
 * When to try connecting again: exponential backoff with jitter. The n-th retry in a row waits
 * `min * factor^n` ms (at most `max`), less a random share of up to `jitter` of it, so that the many
 * clients of a restarted server do not all come back at the same moment.
 */
import { argumentError } from './errors.js';

export interface BackoffOptions {
  /** The first delay, in ms. Default 500. */
  min?: number;
  /** The longest delay, in ms. Default 30,000. */
  max?: number;
  /** How much each delay grows over the one before. Default 2. */
  factor?: number;
  /** The share of a delay that is random, 0 (none) to 1 (anywhere from 0 to the delay). Default 0.5. */
  jitter?: number;
  /** A connection open this long (ms) starts the delays over from `min`. Default 5,000. */
  resetAfter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  min: 500,
  max: 30_000,
  factor: 2,
  jitter: 0.5,
  resetAfter: 5_000,
};

export class Backoff {
  readonly options: Required<BackoffOptions>;
  private readonly random: () => number;
  /** Retries in a row so far. */
  attempt = 0;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    const o = { ...DEFAULT_BACKOFF, ...options };
    for (const key of ['min', 'max', 'resetAfter'] as const) {
      if (!Number.isFinite(o[key]) || o[key] < 0) {
        throw argumentError(`backoff.${key} must be a number of milliseconds ≥ 0; got ${String(o[key])}`);
      }
    }
    if (o.max < o.min) throw argumentError(`backoff.max (${o.max}) must be at least backoff.min (${o.min})`);
    if (!Number.isFinite(o.factor) || o.factor < 1) {
      throw argumentError(`backoff.factor must be a number ≥ 1; got ${String(o.factor)}`);
    }
    if (!(o.jitter >= 0 && o.jitter <= 1)) {
      throw argumentError(`backoff.jitter must be between 0 and 1; got ${String(o.jitter)}`);
    }
    this.options = o;
    this.random = random;
  }

  /** The delay before the next retry, in ms; counts the retry. */
  next(): number {
    const { min, max, factor, jitter } = this.options;
    const ceiling = Math.min(max, min * factor ** this.attempt);
    this.attempt++;
    return Math.round(ceiling * (1 - jitter * this.random()));
  }

  /** A connection lasted (or the network came back): the next retry waits `min` again. */
  reset(): void {
    this.attempt = 0;
  }
}
