import { Buffer } from 'node:buffer';
import { createError, isZlibErrorCode, type WebSocketError } from '../../protocol/errors.js';
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

/** ws's text and code (a RangeError) for a message that inflates past maxPayload; close code 1009. */
export function tooBig(maxPayload: number): WebSocketError {
  return createError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded', {
    closeCode: 1009,
    detail: `the decompressed message is larger than maxPayload (${maxPayload} bytes)`,
  });
}

/**
 * A message that does not inflate: zlib's code and message, as ws passes zlib's error (close code
 * 1007); the zlib error is the cause. WS_ERR_DECOMPRESSION_FAILED when it carries no zlib code.
 */
export function corrupt(cause: unknown): WebSocketError {
  const zlib = cause as { code?: unknown; message?: unknown; errno?: unknown } | null;
  const code = isZlibErrorCode(zlib?.code) ? zlib.code : 'WS_ERR_DECOMPRESSION_FAILED';
  const message =
    code !== 'WS_ERR_DECOMPRESSION_FAILED' && typeof zlib?.message === 'string'
      ? zlib.message
      : 'Compressed message could not be inflated';
  const detail = 'a compressed message could not be inflated (RFC 7692)';
  const errno =
    code !== 'WS_ERR_DECOMPRESSION_FAILED' && typeof zlib?.errno === 'number' ? zlib.errno : undefined;
  return createError(
    code,
    message,
    errno === undefined ? { closeCode: 1007, cause, detail } : { closeCode: 1007, cause, detail, errno },
    'Error',
  );
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
