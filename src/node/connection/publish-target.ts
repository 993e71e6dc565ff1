import type { ReadyState } from '../../protocol/constants.js';
import type { DeflateCodec } from '../deflate/codec.js';
import { Connection } from './connection.js';
import type { SendCallback } from './outbox.js';

/**
 * permessage-deflate as a publisher sees a subscriber's: connections with the same `key` take the
 * same compressed bytes, so a published message is compressed once for all of them.
 */
export interface SharedCompression {
  /** Equal for connections whose compressed messages are interchangeable; null with context takeover. */
  readonly sharedCompressionKey: string | null;
  /** Messages smaller than this are sent uncompressed. */
  readonly threshold: number;
  /** Compresses once for every connection with the same key (synchronously up to the sync limit). */
  compressShared(data: Buffer, cb: (error: Error | null, result?: Buffer) => void): void;
}

/**
 * The narrow interface through which topics (src/pubsub) send to a connection: its state and
 * backpressure, pre-framed bytes in order with everything else it sends, its compression settings,
 * and the slow-consumer policy. A connection tells its server when it closes (ConnectionOwner).
 */
export interface Subscriber {
  readonly readyState: ReadyState;
  /** Bytes waiting to be sent. */
  readonly bufferedAmount: number;
  /** The connection's permessage-deflate, or null when not negotiated. */
  readonly compression: SharedCompression | null;
  /** Queues a frame made once for many connections (or one still being compressed), in order. */
  sendFramed(frame: Buffer | Promise<Buffer>): void;
  /** Sends a message the ordinary way (context takeover: the compressed bytes are this connection's). */
  send(data: Buffer, options: { binary: boolean }, cb?: SendCallback): boolean;
  /** A published message was dropped for this connection (over the server's maxBackpressure). */
  countDropped(): void;
  /**
   * Calls `cb` once, when the bytes waiting to be sent are at most `limit` again (as writes complete);
   * never if the connection closes first. A subscriber held back asks, to catch up once it reads.
   */
  whenBelow(limit: number, cb: () => void): void;
  /** Closes with 1008: the connection is over the server's maxBackpressure with the 'close' policy. */
  overflow(message: string): void;
}

/** The part of a connection that topics use (see Subscriber); the WebSocket class extends it. */
export abstract class PublishTarget extends Connection {
  /** @internal */ _dropped = 0;

  abstract get readyState(): ReadyState;
  abstract get bufferedAmount(): number;

  /** Published messages not sent to this connection because it was over the server's maxBackpressure. */
  get droppedMessages(): number {
    return this._dropped;
  }

  /** @internal */
  get compression(): DeflateCodec | null {
    return this._inflate?.codec ?? null;
  }

  /** @internal */
  sendFramed(frame: Buffer | Promise<Buffer>): void {
    if (!this.canSend()) return;
    this.outbox().framed(frame);
  }

  /** @internal */
  whenBelow(limit: number, cb: () => void): void {
    if (!this.canSend()) return;
    this.outbox().whenBelow(limit, cb);
  }

  /** @internal */
  countDropped(): void {
    this._dropped++;
  }
}
