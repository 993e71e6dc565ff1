import { isUtf8 } from 'node:buffer';
import { WebSocketError } from '../protocol/errors.js';
import type { DeflateCodec } from './permessage-deflate.js';

/** Where a DeflateChannel hands messages once they are in order. */
export interface DeflateChannelSink {
  /** A received message, inflated, in arrival order. */
  deliverMessage(data: Buffer, isBinary: boolean): void;
  /** Inflating failed (bomb over maxPayload → 1009, corrupt data or invalid UTF-8 → 1007). */
  failMessage(error: WebSocketError): void;
  /** Every message received so far was delivered: `receiving` turned false. */
  receiveDrained(): void;
  /** A message (or part) ready to be framed, in send order; `rsv1` marks a compressed payload. */
  writeMessage(
    payload: Buffer | string,
    isBinary: boolean,
    rsv1: boolean,
    fin: boolean,
    cb: ((err?: Error | null) => void) | undefined,
  ): void;
}

interface Incoming {
  data: Buffer | undefined;
  isBinary: boolean;
  ready: boolean;
  error: WebSocketError | null;
}

interface Outgoing {
  payload: Buffer | string | undefined;
  isBinary: boolean;
  rsv1: boolean;
  fin: boolean;
  cb: ((err?: Error | null) => void) | undefined;
  ready: boolean;
  error: WebSocketError | null;
  action: (() => void) | undefined;
  bytes: number;
}

/**
 * Keeps one connection's messages in order through permessage-deflate: a message that inflates (or
 * deflates) on the thread pool holds back the ones after it, compressed or not, so that they are
 * delivered (or sent) in the order they came. When nothing is pending, everything passes straight through.
 */
export class DeflateChannel {
  readonly codec: DeflateCodec;
  private readonly sink: DeflateChannelSink;
  private readonly incoming: Incoming[] = [];
  private readonly outgoing: Outgoing[] = [];
  /** Whether the message being sent in parts (fin: false) is compressed. */
  private partsCompressed: boolean | null = null;
  /** Bytes of outgoing messages waiting for compression. */
  pendingBytes = 0;
  private failed = false;

  constructor(codec: DeflateCodec, sink: DeflateChannelSink) {
    this.codec = codec;
    this.sink = sink;
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
        this.drainIncoming();
      });
    } else {
      this.drainIncoming();
    }
  }

  /**
   * Sends a message or a part of one. `compress` is the caller's choice for a new message (threshold,
   * the compress option); the later parts of a message follow its first part's choice.
   */
  send(
    payload: Buffer | string,
    isBinary: boolean,
    fin: boolean,
    compress: boolean,
    cb: ((err?: Error | null) => void) | undefined,
  ): void {
    const compressed = this.partsCompressed ?? compress;
    this.partsCompressed = fin ? null : compressed;
    if (!compressed && this.outgoing.length === 0) {
      this.sink.writeMessage(payload, isBinary, false, fin, cb);
      return;
    }
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const item: Outgoing = {
      payload: compressed ? undefined : payload,
      isBinary,
      rsv1: compressed,
      fin,
      cb,
      ready: !compressed,
      error: null,
      action: undefined,
      bytes,
    };
    this.outgoing.push(item);
    this.pendingBytes += bytes;
    if (compressed) {
      const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
      this.codec.compress(data, fin, (error, out) => {
        item.ready = true;
        item.error = error;
        item.payload = out;
        this.drainOutgoing();
      });
    } else {
      this.drainOutgoing();
    }
  }

  /** Whether received messages wait for decompression (or behind one that does). */
  get receiving(): boolean {
    return this.incoming.length > 0;
  }

  /** Whether outgoing messages wait for compression (anything sent now must queue behind them). */
  get busy(): boolean {
    return this.outgoing.length > 0;
  }

  /** Runs `action` once everything queued before it has been written (a Close after pending sends). */
  after(action: () => void): void {
    if (this.outgoing.length === 0) {
      action();
      return;
    }
    this.outgoing.push({
      payload: undefined,
      isBinary: false,
      rsv1: false,
      fin: true,
      cb: undefined,
      ready: true,
      error: null,
      action,
      bytes: 0,
    });
  }

  /** Drops what is pending (the connection is gone); callbacks of unsent messages get `error`. */
  close(error: Error): void {
    this.failed = true;
    this.codec.close();
    this.incoming.length = 0;
    for (const item of this.outgoing.splice(0)) item.cb?.(error);
    this.pendingBytes = 0;
  }

  private drainIncoming(): void {
    const queue = this.incoming;
    while (queue.length > 0 && queue[0].ready && !this.failed) {
      const item = queue.shift()!;
      if (item.error === null && !item.isBinary && !isUtf8(item.data!)) {
        item.error = new WebSocketError('WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', {
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

  private drainOutgoing(): void {
    const queue = this.outgoing;
    while (queue.length > 0 && queue[0].ready) {
      const item = queue.shift()!;
      this.pendingBytes -= item.bytes;
      if (item.action !== undefined) {
        item.action();
      } else if (item.error !== null) {
        item.cb?.(item.error);
      } else {
        this.sink.writeMessage(item.payload!, item.isBinary, item.rsv1, item.fin, item.cb);
      }
    }
  }
}
