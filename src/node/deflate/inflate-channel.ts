import { isUtf8 } from 'node:buffer';
import { createError, type WebSocketError } from '../../protocol/errors.js';
import type { DeflateCodec } from './codec.js';

/** Where an InflateChannel hands messages once they are in order. */
export interface InflateChannelSink {
  /** A received message, inflated, in arrival order. */
  deliverMessage(data: Buffer, isBinary: boolean): void;
  /** Inflating failed (bomb over maxPayload → 1009, corrupt data or invalid UTF-8 → 1007). */
  failMessage(error: WebSocketError): void;
  /** Every message received so far was delivered: `receiving` turned false. */
  receiveDrained(): void;
}

interface Incoming {
  data: Buffer | undefined;
  isBinary: boolean;
  ready: boolean;
  error: WebSocketError | null;
}

/**
 * Keeps one connection's received messages in order through permessage-deflate: a message that
 * inflates on the thread pool holds back the ones after it, compressed or not, so that they are
 * delivered in the order they came. When nothing is pending, messages pass straight through. (The
 * way out, compression included, is the connection's Outbox.)
 */
export class InflateChannel {
  readonly codec: DeflateCodec;
  private readonly sink: InflateChannelSink;
  private readonly incoming: Incoming[] = [];
  private failed = false;
  private readonly validateUtf8: boolean;

  constructor(codec: DeflateCodec, sink: InflateChannelSink, validateUtf8 = true) {
    this.codec = codec;
    this.sink = sink;
    this.validateUtf8 = validateUtf8;
  }

  receive(data: Buffer, isBinary: boolean, compressed: boolean): void {
    if (this.failed) return;
    if (!compressed && this.incoming.length === 0) {
      this.sink.deliverMessage(data, isBinary);
      return;
    }
    const item: Incoming = { data: compressed ? undefined : data, isBinary, ready: !compressed, error: null };
    this.incoming.push(item);
    if (compressed) {
      this.codec.decompress(data, (error, out) => {
        item.ready = true;
        item.error = error;
        item.data = out;
        this.drain();
      });
    } else {
      this.drain();
    }
  }

  /** Whether received messages wait for decompression (or behind one that does). */
  get receiving(): boolean {
    return this.incoming.length > 0;
  }

  /** Drops what is pending (the connection is gone) and frees the codec. */
  close(): void {
    this.failed = true;
    this.codec.close();
    this.incoming.length = 0;
  }

  private drain(): void {
    const queue = this.incoming;
    while (queue.length > 0 && queue[0].ready && !this.failed) {
      const item = queue.shift()!;
      if (item.error === null && !item.isBinary && this.validateUtf8 && !isUtf8(item.data!)) {
        item.error = createError('WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', {
          closeCode: 1007,
        });
      }
      if (item.error !== null) {
        this.failed = true;
        queue.length = 0;
        this.sink.failMessage(item.error);
        return;
      }
      this.sink.deliverMessage(item.data!, item.isBinary);
    }
    if (queue.length === 0 && !this.failed) this.sink.receiveDrained();
  }
}
