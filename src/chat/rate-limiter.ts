/**
 * A token bucket, one per connection: it holds up to `burst` tokens, gains `perSecond` tokens a second,
 * and each message takes one. A burst of `burst` messages passes at once; after that, `perSecond` a
 * second. The clock is a parameter so that tests need no waiting.
 */
export interface RateLimitOptions {
  /** Messages allowed at once (the bucket's size). Default 10. */
  burst?: number;
  /** Messages a second allowed over time (the refill rate). Default 3. */
  perSecond?: number;
  /** The clock, in milliseconds. Default performance.now(). */
  now?: () => number;
}

export const DEFAULT_BURST = 10;
export const DEFAULT_PER_SECOND = 3;

export class TokenBucket {
  readonly burst: number;
  readonly perSecond: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? DEFAULT_BURST;
    this.perSecond = options.perSecond ?? DEFAULT_PER_SECOND;
    if (!(this.burst >= 1) || !(this.perSecond > 0)) {
      throw new RangeError('A token bucket needs burst ≥ 1 and perSecond > 0');
    }
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Takes a token if there is one: true means the message may pass. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 if one is). */
  waitTime(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perSecond);
  }
}
