import process from 'node:process';

/** What a FlushBatch flushes: an Outbox with bytes to write. */
export interface Flushable {
  flush(): void;
}

/**
 * The outboxes of one server that got output outside their own receive (a publish, a broadcast, a
 * send from a timer or from another connection's message): written together at the end of the tick,
 * from one process.nextTick, as uWebSockets.js corks per loop iteration, instead of one nextTick per
 * connection. Each outbox is added once per tick (it keeps its own scheduled flag), in the order its
 * first output of the tick came, which is the order they are flushed in.
 */
export class FlushBatch {
  private pending: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;

  add(outbox: Flushable): void {
    this.pending.push(outbox);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(runBatch, this);
    }
  }

  /** @internal */
  run(): void {
    this.scheduled = false;
    // The two lists swap: what a flush schedules goes to the other one, and to the next tick.
    const list = this.pending;
    this.pending = this.spare;
    let i = 0;
    try {
      for (; i < list.length; i++) list[i]!.flush();
    } finally {
      // A flush that threw (a bug) must not strand the outboxes after it: their scheduled flag is set.
      for (let j = i + 1; j < list.length; j++) this.add(list[j]!);
      list.length = 0;
      this.spare = list;
    }
  }
}

function runBatch(batch: FlushBatch): void {
  batch.run();
}
