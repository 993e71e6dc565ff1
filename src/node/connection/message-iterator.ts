import type { EventEmitter } from 'node:events';

/** The part of a WebSocket the iterator uses. */
export interface IteratedSocket extends EventEmitter {
  readonly readyState: number;
  pause(): void;
  resume(): void;
  close(code?: number): void;
}

const OPEN = 1;
const CLOSED = 3;

/** Messages queued before the connection is paused, when the loop body is slower than the peer. */
const HIGH_WATER = 64;

interface Item {
  data: unknown;
  isBinary: boolean;
}

/**
 * Incoming messages as an async iterator, with backpressure: the socket is paused while more than
 * 64 messages wait to be consumed. The iteration ends when the connection closes; leaving the loop
 * early (break) closes the connection, as for a stream.
 */
export function messageIterator(ws: IteratedSocket): AsyncIterableIterator<Item> {
  const queue: Item[] = [];
  const waiting: Array<(result: IteratorResult<Item>) => void> = [];
  let done = ws.readyState === CLOSED;
  let paused = false;

  const onMessage = (data: unknown, isBinary: boolean) => {
    const item = { data, isBinary };
    const next = waiting.shift();
    if (next) next({ value: item, done: false });
    else {
      queue.push(item);
      if (queue.length >= HIGH_WATER && !paused) {
        paused = true;
        ws.pause();
      }
    }
  };
  const finish = () => {
    done = true;
    ws.removeListener('message', onMessage);
    ws.removeListener('close', finish);
    for (const next of waiting.splice(0)) next({ value: undefined, done: true });
  };
  ws.on('message', onMessage);
  ws.on('close', finish);

  return {
    next(): Promise<IteratorResult<Item>> {
      const item = queue.shift();
      if (item !== undefined) {
        if (paused && queue.length < HIGH_WATER / 2) {
          paused = false;
          ws.resume();
        }
        return Promise.resolve({ value: item, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return(): Promise<IteratorResult<Item>> {
      finish();
      queue.length = 0;
      if (ws.readyState <= OPEN) ws.close(1000);
      // Read again, or the peer's Close is never seen and the handshake waits for closeTimeout.
      if (paused) {
        paused = false;
        ws.resume();
      }
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
