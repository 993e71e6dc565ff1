import { constants, createInflateRaw, deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { createError, type WebSocketError } from '../../protocol/errors.js';
import type { DeflateNegotiationOptions, DeflateParams } from '../../protocol/permessage-deflate.js';
import {
  type CodecCallback,
  corrupt,
  deliverInflated,
  tooBig,
  withoutTail,
  withTail,
} from './deflate-data.js';
import type { InflateBudget } from './inflate-budget.js';
import type { Limiter } from './limiter.js';
import { TakeoverDeflater, TakeoverInflater } from './takeover.js';

export type { CodecCallback };

/** Synchronous inflation stops at this many times syncLimit bytes of output (then the thread pool). */
const SYNC_INFLATE_FACTOR = 4;

/** permessage-deflate options of a server or a client (`perMessageDeflate: { ... }`). */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** zlib compression level, 0-9. Default 1 (fast; most of the gain on typical JSON and text). */
  level?: number;
  /** zlib memLevel, 1-9. Default 8. */
  memLevel?: number;
  /**
   * Messages up to this size are compressed synchronously, larger ones on the thread pool. Received
   * payloads up to this size are inflated synchronously unless they inflate to more than 4 × syncLimit
   * bytes (then on the thread pool). Default 64 KiB.
   */
  syncLimit?: number;
  /** Most zlib jobs on the thread pool at once, per server (or per client). Default 10. */
  concurrencyLimit?: number;
  /**
   * Accepted for ws compatibility: `level` and `memLevel` are read from it (`level` and `memLevel` above
   * win). The window is always the negotiated one, as in ws.
   */
  zlibDeflateOptions?: { level?: number; memLevel?: number; windowBits?: number };
  /** Accepted for ws compatibility and ignored: the window is the negotiated one, the output bounded by maxPayload. */
  zlibInflateOptions?: object;
}

/**
 * Compresses and decompresses the messages of one connection. Without context takeover (the default)
 * each message is an independent zlib call and the connection holds no zlib state: small payloads are
 * done synchronously (a few µs, no thread-pool round trip), large ones on the thread pool. With context
 * takeover a zlib stream is kept per direction, created on first use. Decompression stops at maxPayload
 * bytes of output: a compression bomb costs no more than a legitimate message.
 */
export class DeflateCodec {
  private readonly compressBits: number;
  private readonly decompressBits: number;
  private readonly compressTakeover: boolean;
  private readonly decompressTakeover: boolean;
  private readonly level: number;
  private readonly memLevel: number;
  private readonly syncLimit: number;
  private readonly limiter: Limiter;
  private readonly budget: InflateBudget;
  /** Ends each thread-pool inflation in progress (close() calls them). */
  private readonly inflating = new Set<() => void>();
  maxPayload: number;
  /** Messages smaller than this many bytes are sent uncompressed. */
  readonly threshold: number;
  /** The zlib streams of context takeover, created on first use. */
  private deflater: TakeoverDeflater | null = null;
  private inflater: TakeoverInflater | null = null;
  private closed = false;

  constructor(
    params: DeflateParams,
    role: 'server' | 'client',
    options: PerMessageDeflateOptions,
    limiter: Limiter,
    maxPayload: number,
    budget: InflateBudget,
  ) {
    const server = role === 'server';
    this.compressBits = Math.max(9, server ? params.serverMaxWindowBits : params.clientMaxWindowBits);
    this.decompressBits = Math.max(9, server ? params.clientMaxWindowBits : params.serverMaxWindowBits);
    // Our compressor may always forgo context takeover; it keeps context only when asked to.
    this.compressTakeover = server
      ? !params.serverNoContextTakeover && options.serverNoContextTakeover === false
      : !params.clientNoContextTakeover && options.clientNoContextTakeover === false;
    this.decompressTakeover = server ? !params.clientNoContextTakeover : !params.serverNoContextTakeover;
    this.level = options.level ?? options.zlibDeflateOptions?.level ?? 1;
    this.memLevel = options.memLevel ?? options.zlibDeflateOptions?.memLevel ?? 8;
    this.syncLimit = options.syncLimit ?? 64 * 1024;
    this.threshold = options.threshold ?? 1024;
    this.limiter = limiter;
    this.budget = budget;
    this.maxPayload = maxPayload;
  }

  /**
   * Deflates a message, or one part of a message sent in parts; calls `cb` synchronously when it could.
   * The output ends with a sync flush; its 4-byte tail (00 00 ff ff) is removed from the last part only
   * (`fin`): the earlier parts are followed by more deflate data, which would otherwise be read as the
   * length of the flush's empty stored block (RFC 7692 §7.2.1).
   */
  compress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    if (this.compressTakeover) {
      this.deflater ??= new TakeoverDeflater(this.limiter, {
        level: this.level,
        memLevel: this.memLevel,
        windowBits: this.compressBits,
      });
      this.deflater.compress(data, fin, cb);
      return;
    }
    const options = this.deflateOptions();
    if (data.length <= this.syncLimit) {
      const out = deflateRawSync(data, options);
      cb(null, fin ? withoutTail(out) : out);
      return;
    }
    this.limiter.add((done) => {
      if (this.closed) {
        done();
        return;
      }
      deflateRaw(data, options, (err, out) => {
        done();
        if (this.closed) return;
        if (err) cb(createError('WS_ERR_DECOMPRESSION_FAILED', 'Compression failed', { cause: err }));
        else cb(null, fin ? withoutTail(out) : out);
      });
    });
  }

  /** Inflates one message's payload; calls `cb` synchronously when it could. */
  decompress(data: Buffer, cb: CodecCallback): void {
    if (this.decompressTakeover) {
      this.inflater ??= new TakeoverInflater(this.limiter, this.decompressBits, this.budget);
      this.inflater.decompress(data, this.maxPayload, cb);
      return;
    }
    const max = this.maxPayload > 0 ? this.maxPayload : 2 ** 32;
    const options = {
      windowBits: this.decompressBits,
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: max,
    };
    if (data.length <= this.syncLimit) {
      // The compressed size says little of the inflated one (64 KiB of a bomb is 64 MiB): the main
      // thread inflates at most 4 × syncLimit bytes, and hands larger messages to the thread pool.
      const cap = Math.max(1, Math.min(max, SYNC_INFLATE_FACTOR * this.syncLimit));
      let out: Buffer | null = null;
      try {
        out = inflateRawSync(withTail(data), { ...options, maxOutputLength: cap });
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') {
          cb(corrupt(err));
          return;
        }
        if (cap === max) {
          cb(tooBig(this.maxPayload));
          return;
        }
      }
      // Outside the try: what the callback runs (the 'message' listeners) throws on, as in ws.
      if (out !== null) {
        cb(null, out);
        return;
      }
    }
    this.limiter.add((done) => this.inflateOnPool(data, max, cb, done));
  }

  /**
   * Inflates one message on the thread pool as a stream, so that its output counts against the
   * server's InflateBudget as it grows: past the budget it waits (and its connection reads nothing).
   */
  private inflateOnPool(data: Buffer, max: number, cb: CodecCallback, done: () => void): void {
    if (this.closed) {
      done();
      return;
    }
    const inflater = createInflateRaw({
      windowBits: this.decompressBits,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const job = this.budget.open(() => inflater.resume());
    const chunks: Buffer[] = [];
    let total = 0;
    let finished = false;
    const finish = (error: WebSocketError | null) => {
      if (finished) return;
      finished = true;
      this.inflating.delete(abort);
      done();
      inflater.close();
      deliverInflated(this.closed, error, chunks, total, cb, job);
    };
    const abort = () => finish(null);
    this.inflating.add(abort);
    inflater.on('data', (chunk: Buffer) => {
      if (finished) return;
      total += chunk.length;
      if (total > max) {
        finish(tooBig(this.maxPayload));
        return;
      }
      chunks.push(chunk);
      if (!job.add(chunk.length)) inflater.pause();
    });
    inflater.on('error', (err: Error) => finish(corrupt(err)));
    inflater.on('end', () => finish(null));
    inflater.end(withTail(data));
  }

  /**
   * The settings under which this connection's compressed messages are interchangeable with any other
   * connection's that has the same key: a message compressed once (a broadcast) can be sent to all of
   * them. null with context takeover, where each connection's output depends on its history.
   */
  get sharedCompressionKey(): string | null {
    return this.compressTakeover ? null : `${this.compressBits}:${this.level}:${this.memLevel}`;
  }

  /**
   * Compresses a message once for every connection with the same sharedCompressionKey: synchronously
   * up to syncLimit bytes (`cb` is called before this returns), on the thread pool above it, through
   * the limiter. Independent of this connection's state: the result is delivered even if it closes.
   */
  compressShared(data: Buffer, cb: CodecCallback): void {
    const options = this.deflateOptions();
    if (data.length <= this.syncLimit) {
      cb(null, withoutTail(deflateRawSync(data, options)));
      return;
    }
    this.limiter.add((done) => {
      deflateRaw(data, options, (err, out) => {
        done();
        if (err) cb(createError('WS_ERR_DECOMPRESSION_FAILED', 'Compression failed', { cause: err }));
        else cb(null, withoutTail(out));
      });
    });
  }

  /** zlib's options for one message without context takeover. */
  private deflateOptions() {
    return {
      level: this.level,
      memLevel: this.memLevel,
      windowBits: this.compressBits,
      finishFlush: constants.Z_SYNC_FLUSH,
    };
  }

  /** Frees the zlib streams; pending callbacks are dropped. */
  close(): void {
    this.closed = true;
    for (const abort of [...this.inflating]) abort();
    this.deflater?.close();
    this.inflater?.close();
    this.deflater = null;
    this.inflater = null;
  }
}
