/**
 * Runs at most `concurrency` asynchronous jobs at once; the rest wait in order. One instance per
 * server (or per client connection) bounds the zlib work queued on libuv's thread pool, so that
 * compression cannot starve the pool for everyone (ws issue #1202). Never a module-level singleton.
 */
export class Limiter {
  private readonly concurrency: number;
  private running = 0;
  private readonly queue: Array<(done: () => void) => void> = [];

  constructor(concurrency: number) {
    this.concurrency = Math.max(1, concurrency);
  }

  /** Runs `job` now or later; the job calls `done` when it has finished. */
  add(job: (done: () => void) => void): void {
    this.queue.push(job);
    this.next();
  }

  /** Jobs running and waiting. */
  get pending(): number {
    return this.running + this.queue.length;
  }

  private next(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.running--;
        this.next();
      });
    }
  }
}
