import type { WebSocket } from './websocket.js';

/** An operation waiting its turn: returns a promise when it must be waited for (a Blob being read). */
export type QueuedOperation = () => Promise<void> | undefined;

/**
 * Appends an operation to a connection's queue and runs the queue if it was idle. The queue exists
 * only while a Blob is being read, so that what is sent after it (messages, pings, close) keeps its
 * order, as in ws; otherwise sends take the direct path and never come here.
 */
export function enqueue(ws: WebSocket, op: QueuedOperation): void {
  if (ws._queue !== null) {
    ws._queue.push(op);
    return;
  }
  ws._queue = [op];
  runQueue(ws);
}

/** Runs queued operations in order; one that returns a promise suspends the queue until it settles. */
function runQueue(ws: WebSocket): void {
  const queue = ws._queue!;
  while (queue.length > 0) {
    const pending = queue.shift()!();
    if (pending !== undefined) {
      pending.then(() => runQueue(ws));
      return;
    }
  }
  ws._queue = null;
}
