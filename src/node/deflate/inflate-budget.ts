/** The default `inflateBudget`: bytes of inflated messages a server (or a client connection) holds. */
export const DEFAULT_INFLATE_BUDGET = 64 * 1024 * 1024;

/**
 * The bytes held by received messages being inflated on the thread pool, for all the connections of
 * one server (or one client connection). A job asks for each piece of output it produces; past the
 * limit it pauses (and its connection reads nothing meanwhile) until other jobs have delivered their
 * messages. The oldest job never pauses, so the jobs always progress: what inflation holds is at most
 * the limit plus one message (maxPayload), however many connections send compression bombs at once.
 */
export class InflateBudget {
  readonly limit: number;
  private used = 0;
  /** The most bytes held at once since the budget was made (for tests and metrics). */
  peak = 0;
  /** Jobs holding bytes, oldest first (a Set keeps insertion order). */
  private readonly jobs = new Set<InflateJob>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get held(): number {
    return this.used;
  }

  /** A job starts; `resume` is called when it may go on after add() said to pause. */
  open(resume: () => void): InflateJob {
    const job = new InflateJob(this, resume);
    this.jobs.add(job);
    return job;
  }

  /** @internal */
  take(job: InflateJob, bytes: number): boolean {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    if (this.limit === 0 || this.used <= this.limit) return true;
    return this.jobs.values().next().value === job; // the oldest goes on
  }

  /** @internal */
  release(job: InflateJob): void {
    if (!this.jobs.delete(job)) return;
    this.used -= job.bytes;
    // Wake paused jobs while there is room; the oldest always.
    let first = true;
    for (const other of this.jobs) {
      if (other.paused && (first || this.limit === 0 || this.used < this.limit)) other.wake();
      first = false;
    }
  }
}

/** One message being inflated: the bytes it holds until its message is delivered. */
export class InflateJob {
  private readonly budget: InflateBudget;
  private readonly resume: () => void;
  bytes = 0;
  paused = false;

  constructor(budget: InflateBudget, resume: () => void) {
    this.budget = budget;
    this.resume = resume;
  }

  /** Counts `bytes` of output; false means: pause until resumed. */
  add(bytes: number): boolean {
    this.bytes += bytes;
    const ok = this.budget.take(this, bytes);
    if (!ok) this.paused = true;
    return ok;
  }

  /** The message was delivered (or failed, or its connection closed): the bytes are free. */
  done(): void {
    this.budget.release(this);
  }

  /** @internal */
  wake(): void {
    this.paused = false;
    this.resume();
  }
}
