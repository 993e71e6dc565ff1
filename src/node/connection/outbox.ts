import type { Blob } from 'node:buffer';
import process from 'node:process';
import { EMPTY_BUFFER } from '../../protocol/constants.js';
import { createError } from '../../protocol/errors.js';
import type { Protocol } from '../../protocol/protocol.js';
import type { DeflateCodec } from '../deflate/codec.js';
import { LeanSocket } from '../transport/lean-socket.js';
import type { Transport } from '../transport/transport.js';
import type { FlushBatch } from './flush-batch.js';
import { notOpen } from './not-open.js';

export type SendCallback = (error?: Error | null) => void;

/** What an Outbox tells the connection it belongs to. */
export interface OutboxOwner {
  /** True while a received chunk is being processed: its output is flushed after it, in one write. */
  readonly receiving: boolean;
  /** send() returned false and everything has been written since: emit 'drain'. */
  outboxDrained(): void;
  /** More than `maxBufferedAmount` bytes wait: close with 1008. */
  outboxOverflow(): void;
  /** More than `readPauseBufferedAmount` bytes wait (true), or they drained below `highWaterMark`. */
  outboxFull(full: boolean): void;
  /** What was to be sent could not be made (a Blob that cannot be read, compression failed). */
  outboxFailed(error: Error): void;
  /** Where the output of a server's connections is gathered for the end of the tick; null: one nextTick each. */
  readonly flushBatch: FlushBatch | null;
}

/** The output limits of a connection (see ConnectionOptions). 0 turns a limit off. */
export interface OutputLimits {
  highWaterMark: number;
  readPauseBufferedAmount: number;
  maxBufferedAmount: number;
}

const MESSAGE = 0;
const FRAMED = 1;
const PING = 2;
const PONG = 3;
const ACTION = 4;

// What an operation that is not ready waits for (Waiting.making).
const READY = 0;
const READING_BLOB = 1;
const COMPRESSING = 2;
const FRAMING = 3;

/** An operation waiting for its turn, or for its bytes (a Blob being read, a message being compressed). */
interface Waiting {
  kind: number;
  payload: Buffer | string | undefined;
  isBinary: boolean;
  rsv1: boolean;
  fin: boolean;
  cb: SendCallback | undefined;
  action: (() => void) | undefined;
  ready: boolean;
  /** What its bytes wait for while not ready: READING_BLOB, COMPRESSING, FRAMING (READY once ready). */
  making: number;
  error: Error | null;
  bytes: number;
}

const FLUSH_SCHEDULED = 1;
const NEED_DRAIN = 2;
const FULL = 4;
const DEAD = 8;
/** Everything unsent was discarded (past maxBufferedAmount): the limits are not checked again. */
const DISCARDED = 16;

/**
 * The one ordered path out of a connection: messages, Blobs, compressed messages, published frames,
 * pings, pongs and the Close pass through it in the order they were given, and it counts every byte
 * not yet written (waiting here, framed in the protocol, or in the transport). When nothing waits
 * (no Blob being read, no message on the thread pool) an operation goes straight to the protocol and
 * the queue costs nothing; otherwise later operations wait behind the first one that is not ready.
 * The bytes of one tick are written as one write (or one corked batch).
 */
export class Outbox {
  private readonly owner: OutboxOwner;
  private readonly protocol: Protocol;
  private readonly transport: Transport;
  private readonly codec: DeflateCodec | null;
  private readonly limits: OutputLimits;
  private waiting: Waiting[] | null = null;
  /** Callbacks of what the protocol holds, called once it is written. */
  private callbacks: SendCallback[] | null = null;
  /** Bytes of the operations waiting here. */
  private waitingBytes = 0;
  /**
   * How many more bytes the compressed messages framed in the protocol, and not yet written, take
   * than the data given: bufferedAmount counts such a message by the data given, as ws counts its
   * sender queue, until it is written (then the transport counts the bytes on the wire).
   */
  private framedExcess = 0;
  /** Whether the message being sent in parts (fin: false) is compressed. */
  private partsCompressed: boolean | null = null;
  private flags = 0;
  /** Who waits for the bytes not yet written to fall to a bound (see whenBelow); null: nobody. */
  private belowWaiters: { limit: number; cb: () => void }[] | null = null;

  constructor(
    owner: OutboxOwner,
    protocol: Protocol,
    transport: Transport,
    codec: DeflateCodec | null,
    limits: OutputLimits,
  ) {
    this.owner = owner;
    this.protocol = protocol;
    this.transport = transport;
    this.codec = codec;
    this.limits = limits;
  }

  /** Bytes given and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return (
      this.waitingBytes + this.protocol.bufferedAmount - this.framedExcess + this.transport.writableLength
    );
  }

  /** Whether operations wait (anything given now goes behind them). */
  get busy(): boolean {
    return this.waiting !== null;
  }

  /**
   * A message or a part of one. `compress` is the caller's choice for a new message (threshold, the
   * compress option); later parts follow the first part's choice. Returns whether the buffer is
   * still under highWaterMark.
   */
  message(
    payload: Buffer | string,
    isBinary: boolean,
    fin: boolean,
    compress: boolean,
    cb?: SendCallback,
  ): boolean {
    const codec = this.codec;
    if (codec === null) {
      if (this.waiting === null) {
        this.protocol.send(payload, isBinary, fin ? undefined : { fin: false });
        return this.queued(cb);
      }
      this.wait(MESSAGE, payload, isBinary, false, fin, cb, true);
      return this.check();
    }
    const compressed = this.partsCompressed ?? (compress && byteLength(payload) >= codec.threshold);
    this.partsCompressed = fin ? null : compressed;
    if (!compressed) {
      if (this.waiting === null) {
        this.protocol.send(payload, isBinary, { fin, rsv1: false });
        return this.queued(cb);
      }
      this.wait(MESSAGE, payload, isBinary, false, fin, cb, true);
      return this.check();
    }
    const op = this.wait(MESSAGE, undefined, isBinary, true, fin, cb, false, byteLength(payload));
    this.compressInto(op, typeof payload === 'string' ? Buffer.from(payload) : payload);
    return this.check();
  }

  /** A Blob, read asynchronously: what is given after it waits until it has been read and sent. */
  blob(blob: Blob, isBinary: boolean, fin: boolean, compress: boolean, cb?: SendCallback): void {
    const op = this.wait(MESSAGE, undefined, isBinary, false, fin, cb, false, blob.size);
    op.making = READING_BLOB;
    // Out of the promise chain (next tick), as ws does it: what the callbacks and listeners called
    // from here throw is thrown, not turned into a rejected promise.
    blob.arrayBuffer().then(
      (ab) => process.nextTick(() => this.blobRead(op, Buffer.from(ab), compress)),
      (err: unknown) => process.nextTick(() => this.settle(op, asError(err))),
    );
  }

  private blobRead(op: Waiting, data: Buffer, compress: boolean): void {
    if (this.gone()) {
      this.settle(op, null);
      return;
    }
    const codec = this.codec;
    const compressed =
      codec !== null && (this.partsCompressed ?? (compress && data.length >= codec.threshold));
    if (codec !== null) this.partsCompressed = op.fin ? null : compressed;
    if (compressed) {
      op.rsv1 = true;
      this.compressInto(op, data);
      return;
    }
    op.payload = data;
    this.settle(op, null);
  }

  /** Bytes framed once for many connections (a publish), or a frame that will be ready later. */
  framed(frame: Buffer | Promise<Buffer>, cb?: SendCallback): void {
    if (Buffer.isBuffer(frame)) {
      if (this.waiting === null) {
        this.protocol.sendFramed(frame);
        this.queued(cb);
      } else {
        this.wait(FRAMED, frame, true, false, true, cb, true);
      }
      this.check();
      return;
    }
    const op = this.wait(FRAMED, undefined, true, false, true, undefined, false);
    op.making = FRAMING;
    frame.then(
      (bytes) =>
        process.nextTick(() => {
          op.payload = bytes;
          op.bytes = bytes.length;
          this.waitingBytes += bytes.length;
          this.settle(op, null);
        }),
      (err: unknown) => process.nextTick(() => this.settle(op, asError(err))),
    );
    this.check();
  }

  /** A Ping or a Pong (at most 125 bytes, checked by the caller). */
  control(ping: boolean, bytes: Buffer, cb?: SendCallback): void {
    if (this.waiting === null) {
      if (ping) this.protocol.ping(bytes);
      else this.protocol.pong(bytes);
      this.queued(cb);
    } else {
      this.wait(ping ? PING : PONG, bytes, true, false, true, cb, true);
    }
    this.check();
  }

  /** A Ping or a Pong whose payload is a Blob (at most 125 bytes, checked by the caller), read first. */
  controlBlob(ping: boolean, blob: Blob, cb?: SendCallback): void {
    const op = this.wait(ping ? PING : PONG, undefined, true, false, true, cb, false, blob.size);
    op.making = READING_BLOB;
    blob.arrayBuffer().then(
      (ab) =>
        process.nextTick(() => {
          op.payload = Buffer.from(ab);
          this.settle(op, null);
        }),
      (err: unknown) => process.nextTick(() => this.settle(op, asError(err))),
    );
    this.check();
  }

  /** Runs `action` once everything given before it is in the protocol (a Close after pending sends). */
  after(action: () => void): void {
    if (this.waiting === null) {
      action();
      return;
    }
    const op = this.wait(ACTION, undefined, false, false, true, undefined, true);
    op.action = action;
  }

  /**
   * Calls `cb` once, when the bytes given and not yet written are at most `limit` (checked as each
   * write completes). Only the writes made while someone waits carry a callback: nothing is added
   * to the output of a connection nobody waits on. Never called if the connection closes first.
   */
  whenBelow(limit: number, cb: () => void): void {
    (this.belowWaiters ??= []).push({ limit, cb });
    if (this.waiting !== null || (this.flags & FLUSH_SCHEDULED) !== 0 || this.protocol.hasOutput) return;
    // Everything was handed to the transport by writes without a callback: an empty write, which
    // completes after them, tells when they are done.
    if (this.bufferedAmount <= limit) {
      process.nextTick(() => this.wakeBelow());
      return;
    }
    if ((this.flags & DEAD) !== 0 || this.transport.destroyed || !this.transport.writable) return;
    this.transport.write(EMPTY_BUFFER, (err?: Error | null) => {
      if (!err) this.wakeBelow();
    });
  }

  /** Calls the whenBelow() callbacks whose bound the output is now under. */
  private wakeBelow(): void {
    const waiters = this.belowWaiters;
    if (waiters === null || (this.flags & DEAD) !== 0) return;
    const buffered = this.bufferedAmount;
    const still = waiters.filter((w) => w.limit < buffered);
    this.belowWaiters = still.length === 0 ? null : still;
    for (const w of waiters) if (w.limit >= buffered) w.cb();
  }

  /** Writes what the protocol holds, as one write or one corked batch. */
  flush(): void {
    this.flags &= ~FLUSH_SCHEDULED;
    const { readPauseBufferedAmount: pauseAt, maxBufferedAmount: max } = this.limits;
    if ((pauseAt > 0 || max > 0) && (this.flags & (DEAD | DISCARDED)) === 0) {
      // What the protocol queued by itself (Pongs, the answer to a Close) counts too.
      const buffered = this.bufferedAmount;
      if (max > 0 && buffered > max) {
        this.owner.outboxOverflow();
        return;
      }
      if (pauseAt > 0 && (this.flags & FULL) === 0 && buffered > pauseAt) this.hold();
    }
    const out = this.protocol.takeOutput();
    this.framedExcess = 0;
    if (out === null) return;
    const callbacks = this.callbacks;
    this.callbacks = null;
    const transport = this.transport;
    if ((this.flags & DEAD) !== 0 || transport.destroyed || !transport.writable) {
      if (callbacks !== null) {
        const err = createError('WS_ERR_NOT_OPEN', 'The socket is not writable: the connection is closed');
        for (const cb of callbacks) process.nextTick(cb, err);
      }
      return;
    }
    // A closure only when someone waits: send callbacks, a 'drain' owed after send() returned
    // false, reading held until the bytes drain, or whenBelow().
    const done =
      callbacks === null && (this.flags & (NEED_DRAIN | FULL)) === 0 && this.belowWaiters === null
        ? undefined
        : (err?: Error | null) => {
            if (callbacks !== null) for (const cb of callbacks) cb(err ?? null);
            if (err) return;
            const buffered = this.bufferedAmount;
            if ((this.flags & FULL) !== 0 && buffered <= this.limits.highWaterMark) {
              this.flags &= ~FULL;
              this.owner.outboxFull(false);
            }
            if ((this.flags & NEED_DRAIN) !== 0 && buffered === 0) {
              this.flags &= ~NEED_DRAIN;
              this.owner.outboxDrained();
            }
            if (this.belowWaiters !== null) this.wakeBelow();
          };
    if (out.length === 1) {
      transport.write(out[0], done);
    } else if (transport instanceof LeanSocket) {
      transport.writeChunks(out, done);
    } else {
      transport.cork();
      const last = out.length - 1;
      for (let i = 0; i < last; i++) transport.write(out[i]);
      transport.write(out[last], done);
      transport.uncork();
    }
  }

  /**
   * Drops everything not yet written (the connection gives up on a peer that does not read): the
   * callbacks waiting for it learn that it was not sent.
   */
  discard(error: Error): void {
    this.flags |= DISCARDED;
    this.protocol.takeOutput();
    this.framedExcess = 0;
    const waiting = this.waiting;
    this.waiting = null;
    this.waitingBytes = 0;
    const callbacks = this.callbacks;
    this.callbacks = null;
    if (callbacks !== null) for (const cb of callbacks) process.nextTick(cb, error);
    if (waiting !== null) for (const op of waiting) if (op.cb) process.nextTick(op.cb, error);
  }

  /**
   * The transport is gone: nothing more is written; every callback still waiting gets an error. Those
   * behind a Blob being read get it once the Blob is read (its own error if it cannot be), as in ws.
   */
  closed(): void {
    this.flags |= DEAD | FLUSH_SCHEDULED;
    const callbacks = this.callbacks;
    this.callbacks = null;
    if (callbacks !== null) {
      // Made only when a callback waits: an Error (its stack) per closed connection costs churn.
      const error = createError('WS_ERR_NOT_OPEN', 'The socket was closed before the data could be written');
      for (const cb of callbacks) cb(error);
    }
    const waiting = this.waiting;
    if (waiting === null) return;
    // A Blob always settles: its turn comes then (see settle()). A message on the thread pool does
    // not (the codec closes and drops it): its callbacks learn now.
    if (waiting[0].making === READING_BLOB) return;
    this.abandon(waiting[0].making === COMPRESSING ? closedWhile(COMPRESSING) : notOpen(3));
  }

  /** Whether the transport is gone (closed, or destroyed and about to be): nothing can be written. */
  private gone(): boolean {
    return (this.flags & DEAD) !== 0 || this.transport.destroyed;
  }

  /**
   * Gives up on every operation waiting: their callbacks get `error`, and they are not sent (ws calls
   * every queued callback with the error of the one that could not be made). The connection's own
   * actions (a Close after them) still run while the transport is there.
   */
  private abandon(error: Error): void {
    const waiting = this.waiting;
    this.waiting = null;
    this.waitingBytes = 0;
    if (waiting === null) return;
    const gone = this.gone();
    for (const op of waiting) {
      if (op.kind === ACTION) {
        if (!gone) op.action!();
      } else if (op.cb) {
        op.cb(error);
      }
    }
  }

  /**
   * Too much waits: the owner stops reading from the peer (TCP holds it back) until the bytes drain
   * below highWaterMark, which the callback of the next write tells (every write carries one while
   * reading is held, so the last one sees the transport empty).
   */
  private hold(): void {
    this.flags |= FULL;
    this.owner.outboxFull(true);
  }

  private wait(
    kind: number,
    payload: Buffer | string | undefined,
    isBinary: boolean,
    rsv1: boolean,
    fin: boolean,
    cb: SendCallback | undefined,
    ready: boolean,
    bytes = payload === undefined ? 0 : byteLength(payload),
  ): Waiting {
    const op: Waiting = {
      kind,
      payload,
      isBinary,
      rsv1,
      fin,
      cb,
      action: undefined,
      ready,
      making: READY,
      error: null,
      bytes,
    };
    if (this.waiting === null) this.waiting = [op];
    else this.waiting.push(op);
    this.waitingBytes += bytes;
    return op;
  }

  private compressInto(op: Waiting, data: Buffer): void {
    op.making = COMPRESSING;
    this.codec!.compress(data, op.fin, (error, out) => {
      op.payload = out;
      this.settle(op, error);
    });
  }

  /** An operation's bytes are ready (or failed): run what can run, in order. */
  private settle(op: Waiting, error: Error | null): void {
    const making = op.making;
    op.ready = true;
    op.making = READY;
    op.error = error;
    const queue = this.waiting;
    if (queue === null) return;
    if (this.gone()) {
      // The first operation not ready decides, as ws's sender does with its queue: the callbacks
      // get its error, or learn that the socket closed while its bytes were being made.
      if (queue[0] === op) this.abandon(error ?? closedWhile(making));
      return;
    }
    let wrote = false;
    while (queue.length > 0 && queue[0].ready) {
      const next = queue[0];
      if (next.error !== null) {
        // A Blob that cannot be read (compression that failed): what waits behind it is not sent,
        // and the connection fails (ws: the callbacks get the error, then 'error').
        this.abandon(next.error);
        this.owner.outboxFailed(next.error);
        return;
      }
      queue.shift();
      this.waitingBytes -= next.bytes;
      if (next.kind === ACTION) {
        if (queue.length === 0) this.waiting = null;
        next.action!();
        continue;
      }
      const protocol = this.protocol;
      if (protocol.closeSent) {
        if (next.cb) process.nextTick(next.cb, notOpen(2));
        continue;
      }
      if (next.kind === MESSAGE) {
        const before = protocol.bufferedAmount;
        protocol.send(next.payload!, next.isBinary, { fin: next.fin, rsv1: next.rsv1 });
        if (next.rsv1) this.framedExcess += protocol.bufferedAmount - before - next.bytes;
      } else if (next.kind === FRAMED) {
        protocol.sendFramed(next.payload as Buffer);
      } else if (next.kind === PING) {
        protocol.ping(next.payload as Buffer);
      } else {
        protocol.pong(next.payload as Buffer);
      }
      if (next.cb !== undefined) (this.callbacks ??= []).push(next.cb);
      wrote = true;
    }
    if (queue.length === 0 && this.waiting === queue) this.waiting = null;
    if (wrote) this.schedule();
  }

  private queued(cb: SendCallback | undefined): boolean {
    if (cb !== undefined) (this.callbacks ??= []).push(cb);
    if (!this.owner.receiving) this.schedule();
    return this.check();
  }

  private schedule(): void {
    if ((this.flags & FLUSH_SCHEDULED) !== 0) return;
    this.flags |= FLUSH_SCHEDULED;
    const batch = this.owner.flushBatch;
    if (batch !== null) batch.add(this);
    else process.nextTick(flushOutbox, this);
  }

  /** Whether the buffer is under highWaterMark; past maxBufferedAmount the owner closes with 1008. */
  private check(): boolean {
    const buffered = this.bufferedAmount;
    const limits = this.limits;
    if ((this.flags & DISCARDED) !== 0) return false;
    if (limits.maxBufferedAmount > 0 && buffered > limits.maxBufferedAmount) {
      this.owner.outboxOverflow();
      return false;
    }
    const pauseAt = limits.readPauseBufferedAmount;
    if (pauseAt > 0 && buffered > pauseAt && (this.flags & FULL) === 0) this.hold();
    if (buffered < limits.highWaterMark) return true;
    this.flags |= NEED_DRAIN;
    return false;
  }
}

function flushOutbox(outbox: Outbox): void {
  outbox.flush();
}

/** ws's texts for a send whose socket closed before its bytes were made. */
function closedWhile(making: number): Error {
  if (making === READING_BLOB)
    return createError('WS_ERR_NOT_OPEN', 'The socket was closed while the blob was being read');
  if (making === COMPRESSING)
    return createError('WS_ERR_NOT_OPEN', 'The socket was closed while data was being compressed');
  return notOpen(3);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function byteLength(payload: Buffer | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}
