import { createError, type WebSocketError } from '../../protocol/errors.js';
import type { InflateJob } from './inflate-budget.js';
import type { Limiter } from './limiter.js';

/** The 4 bytes a sync flush ends with, removed on the wire and put back to inflate (RFC 7692 §7.2.1). */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export type CodecCallback = (error: WebSocketError | null, result?: Buffer) => void;

type Job = (done: () => void) => void;

/**
 * Runs the jobs of one zlib stream one at a time, each in a slot of the limiter: the stream's output
 * and errors then always belong to the job in progress.
 */
export class StreamQueue {
  private readonly jobs: Job[] = [];
  private running = false;

  constructor(private readonly limiter: Limiter) {}

  add(job: Job): void {
    this.jobs.push(job);
    if (!this.running) this.next();
  }

  private next(): void {
    const job = this.jobs.shift();
    if (job === undefined) {
      this.running = false;
      return;
    }
    this.running = true;
    this.limiter.add((done) =>
      job(() => {
        done();
        this.next();
      }),
    );
  }
}

export function tooBig(maxPayload: number): WebSocketError {
  return createError(
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    `Decompressed message larger than maxPayload (${maxPayload} bytes)`,
    { closeCode: 1009 },
  );
}

export function corrupt(cause: unknown): WebSocketError {
  return createError('WS_ERR_DECOMPRESSION_FAILED', 'Compressed message could not be inflated', {
    closeCode: 1007,
    cause,
  });
}

export function withTail(data: Buffer): Buffer {
  return Buffer.concat([data, TAIL], data.length + 4);
}

export function withoutTail(data: Buffer): Buffer {
  const n = data.length;
  if (n >= 4 && data[n - 4] === 0 && data[n - 3] === 0 && data[n - 2] === 0xff && data[n - 1] === 0xff) {
    return data.subarray(0, n - 4);
  }
  return data;
}

/**
 * Hands an inflated message (or its failure) to `cb`, then frees the budget it held: a 'message'
 * event is synchronous, so once `cb` returns the application holds the message, not wskit. Nothing
 * is delivered after the codec closed.
 */
export function deliverInflated(
  closed: boolean,
  error: WebSocketError | null,
  chunks: Buffer[],
  total: number,
  cb: CodecCallback,
  job: InflateJob,
): void {
  if (closed) {
    job.done();
    return;
  }
  try {
    if (error !== null) cb(error);
    else cb(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
  } finally {
    job.done();
  }
}
