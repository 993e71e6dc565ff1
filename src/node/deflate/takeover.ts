import { Buffer } from 'node:buffer';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { WebSocketError } from '../../protocol/errors.js';
import {
  type CodecCallback,
  corrupt,
  deliverInflated,
  StreamQueue,
  TAIL,
  tooBig,
  withoutTail,
} from './deflate-data.js';
import type { InflateBudget, InflateJob } from './inflate-budget.js';
import type { Limiter } from './limiter.js';

/**
 * The compressing side of a connection with context takeover: one zlib stream, created on first use,
 * whose messages are compressed one at a time, each in a slot of the server's limiter.
 */
export class TakeoverDeflater {
  private readonly queue: StreamQueue;
  private readonly options: { level: number; memLevel: number; windowBits: number };
  private deflater: DeflateRaw | null = null;
  /** The stream's output, gathered between flushes. */
  private deflated: Buffer[] = [];
  private closed = false;

  constructor(limiter: Limiter, options: { level: number; memLevel: number; windowBits: number }) {
    this.queue = new StreamQueue(limiter);
    this.options = options;
  }

  /** Compresses a message (or a part of one: `fin` false keeps the 4-byte tail). */
  compress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    this.queue.add((done) => this.run(data, fin, cb, done));
  }

  close(): void {
    this.closed = true;
    this.deflater?.close();
    this.deflater = null;
  }

  private run(data: Buffer, fin: boolean, cb: CodecCallback, done: () => void): void {
    if (this.closed) {
      done();
      return;
    }
    if (this.deflater === null) {
      // One permanent listener: output is collected from the moment the stream exists, so nothing
      // of one message can arrive after its flush callback and slip into the next.
      const deflater = createDeflateRaw(this.options);
      deflater.on('data', (chunk: Buffer) => this.deflated.push(chunk));
      deflater.on('error', () => {});
      this.deflater = deflater;
    }
    this.deflater.write(data);
    this.deflater.flush(constants.Z_SYNC_FLUSH, () => {
      const chunks = this.deflated;
      this.deflated = [];
      done();
      if (this.closed) return;
      const out = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      cb(null, fin ? withoutTail(out) : out);
    });
  }
}

/**
 * The inflating side of a connection with context takeover: one zlib stream whose output counts
 * against the server's InflateBudget as it grows, and stops at maxPayload bytes per message.
 */
export class TakeoverInflater {
  private readonly queue: StreamQueue;
  private readonly windowBits: number;
  private readonly budget: InflateBudget;
  private inflater: InflateRaw | null = null;
  /** The stream's output for the message in progress. */
  private inflated: Buffer[] = [];
  private inflatedLength = 0;
  private inflateError: WebSocketError | null = null;
  /** Bytes written to the stream (to tell when a message ended the deflate stream). */
  private inflateIn = 0;
  /** Ends the message in progress (from the stream's listeners, or close()). */
  private inflateDone: (() => void) | null = null;
  /** The budget held by the message in progress. */
  private inflateJob: InflateJob | null = null;
  private maxPayload = 0;
  private closed = false;

  constructor(limiter: Limiter, windowBits: number, budget: InflateBudget) {
    this.queue = new StreamQueue(limiter);
    this.windowBits = windowBits;
    this.budget = budget;
  }

  /** Inflates one message's payload; its output stops at `maxPayload` bytes (0: no limit). */
  decompress(data: Buffer, maxPayload: number, cb: CodecCallback): void {
    this.queue.add((done) => this.run(data, maxPayload, cb, done));
  }

  /** Frees the stream; the message in progress is dropped (its limiter slot and budget freed). */
  close(): void {
    this.closed = true;
    this.inflateDone?.();
    this.inflater?.close();
    this.inflater = null;
  }

  private stream(): InflateRaw {
    if (this.inflater !== null) return this.inflater;
    const created = createInflateRaw({ windowBits: this.windowBits });
    created.on('data', (chunk: Buffer) => {
      if (this.inflateError !== null) return;
      this.inflatedLength += chunk.length;
      if (this.maxPayload > 0 && this.inflatedLength > this.maxPayload) {
        // Stop here: closing the stream drops the input not yet inflated (a reset would go on
        // inflating the rest of a compression bomb from an arbitrary bit).
        this.inflateError = tooBig(this.maxPayload);
        this.inflated = [];
        this.inflateDone?.();
        return;
      }
      this.inflated.push(chunk);
      // Past the server's inflate budget: wait for room (the oldest message never waits).
      if (this.inflateJob !== null && !this.inflateJob.add(chunk.length)) created.pause();
    });
    // A corrupt stream errors and is destroyed: its flush callback never comes.
    created.on('error', (err: Error) => {
      this.inflateError ??= corrupt(err);
      this.inflateDone?.();
    });
    this.inflater = created;
    this.inflateIn = 0;
    return created;
  }

  private run(data: Buffer, maxPayload: number, cb: CodecCallback, done: () => void): void {
    if (this.closed) {
      done();
      return;
    }
    this.maxPayload = maxPayload;
    const inflater = this.stream();
    let finished = false;
    const job = this.budget.open(() => inflater.resume());
    this.inflateJob = job;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.inflateDone = null;
      this.inflateJob = null;
      const error = this.inflateError;
      const chunks = this.inflated;
      const total = this.inflatedLength;
      this.inflated = [];
      this.inflatedLength = 0;
      this.inflateError = null;
      // After a failure the stream's state is unknown (the connection is being failed anyway). Input
      // left over means the message ended the deflate stream with a BFINAL block (RFC 7692 §7.2.3.4):
      // zlib ignores anything written after that, so the next message needs a stream of its own.
      if (error !== null || inflater.bytesWritten < this.inflateIn) {
        if (this.inflater === inflater) this.inflater = null;
        inflater.close();
      }
      done();
      deliverInflated(this.closed, error, chunks, total, cb, job);
    };
    this.inflateDone = finish;
    this.inflateIn += data.length + TAIL.length;
    inflater.write(data);
    inflater.write(TAIL);
    inflater.flush(constants.Z_SYNC_FLUSH, finish);
  }
}
