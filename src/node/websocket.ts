import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../protocol/close.js';
import { DEFAULT_MAX_PAYLOAD, EMPTY_BUFFER, ReadyState } from '../protocol/constants.js';
import { argumentError, WebSocketError } from '../protocol/errors.js';
import type { DeflateParams } from '../protocol/permessage-deflate.js';
import { Protocol, type ProtocolHandler } from '../protocol/protocol.js';
import type { Topics } from '../pubsub/topics.js';
import { type ClientOptions, connectClient } from './client-request.js';
import { abortConnecting, endSocket, notOpen, overflow, setCloseTimer } from './connection-end.js';
import { DeflateChannel } from './deflate-channel.js';
import type { ResolvedDeflate } from './deflate-options.js';
import {
  addEventListener,
  type BrowserEventType,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
} from './event-target.js';
import type { EventListenerLike } from './events.js';
import { defineFlagProperties } from './flag-properties.js';
import type { Heartbeat } from './heartbeat.js';
import type { Limiter } from './limiter.js';
import { CompactEventEmitter } from './listener-table.js';
import { messageIterator } from './message-iterator.js';
import {
  type ConnectionOptions,
  checkConnectionOptions,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
} from './options.js';
import { DeflateCodec } from './permessage-deflate.js';
import {
  BINARY_TYPES,
  type BinaryType,
  isBlob,
  type SendData,
  toBinaryType,
  toPayload,
} from './send-data.js';
import { enqueue, type QueuedOperation } from './send-queue.js';
import { attachSocket, flushOutput, scheduleFlush } from './socket-io.js';

// The bits of WebSocket's _flags.
const IS_SERVER = 1;
const IN_RECEIVE = 2;
const PAUSED = 4;
const INFLATING = 8;
const FLUSH_SCHEDULED = 16;
const NEED_DRAIN = 32;
const ERROR_EMITTED = 64;
const HB_SEEN = 128;
const SENT_CLOSE = 256;
const RECEIVED_CLOSE = 512;

export type SendCallback = (error?: Error | null) => void;

export interface WebSocketSendOptions {
  /** Send as binary (default: true for anything but a string). */
  binary?: boolean;
  /** Compress with permessage-deflate when negotiated (default true). */
  compress?: boolean;
  /** Whether this is the last part of the message (default true). */
  fin?: boolean;
  /** Accepted for ws compatibility: clients always mask, servers never do. */
  mask?: boolean;
}

/** Options of a client WebSocket: ws's, plus wskit's connection options. */
export type WebSocketOptions = ClientOptions & ConnectionOptions;

/**
 * One WebSocket connection, client or server side, with the API of ws's WebSocket (EventEmitter
 * events and the browser's addEventListener / on* attributes).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface only adds typed overloads of EventEmitter's on/once
export class WebSocket extends CompactEventEmitter implements ProtocolHandler {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // On the prototype (defined below the class), not on each connection.
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** @internal */ _readyState: ReadyState = ReadyState.CONNECTING;
  /** @internal */ _socket: Duplex | null = null;
  /** @internal */ _protocol: Protocol | null = null;
  /** @internal */ declare _isServer: boolean;
  /** @internal */ _binaryType: BinaryType = 'nodebuffer';
  /** @internal */ _subprotocol = '';
  /** @internal */ _extensions = '';
  /** @internal */ _url = '';
  /** @internal */ _options: ConnectionOptions;
  /** @internal */ _closeCode = 1006;
  /** @internal */ _closeReason: Buffer = EMPTY_BUFFER;
  /** @internal */ _closeTimer: NodeJS.Timeout | null = null;
  /** @internal The boolean states below, one bit each (defineFlagProperties, after the class). */
  _flags = HB_SEEN;
  /** @internal */ declare _inReceive: boolean;
  /** @internal pause() was called (and not resume()). */
  declare _paused: boolean;
  /** @internal Reading is held while a received message inflates on the thread pool. */
  declare _inflating: boolean;
  /** @internal */ declare _flushScheduled: boolean;
  /** @internal send() returned false: 'drain' is owed once everything buffered is written. */
  declare _needDrain: boolean;
  /** @internal */ _callbacks: SendCallback[] | null = null;
  /** @internal */ declare _errorEmitted: boolean;
  /** @internal */ _req: ClientRequest | null = null;
  /** @internal */ _heartbeat: Heartbeat | null = null;
  /** @internal heartbeat bookkeeping: data seen since the last tick, when a ping went out, when silence began */
  declare _hbSeen: boolean;
  /** @internal */ _hbPingAt = 0;
  /** @internal */ _hbIdleSince = 0;
  /** @internal */ _redirects = 0;
  /** @internal */ declare _sentClose: boolean;
  /** @internal */ declare _receivedClose: boolean;
  /** @internal Sends, pings and close waiting behind a Blob being read, so that they keep their order. */
  _queue: QueuedOperation[] | null = null;
  /** @internal permessage-deflate, when negotiated: keeps messages in order through (de)compression. */
  _deflate: DeflateChannel | null = null;
  /** @internal Messages smaller than this are sent uncompressed. */
  _deflateThreshold = 0;
  /** @internal The topics of the server this connection belongs to (server side only). */
  _topics: Topics | null = null;
  /** @internal Published messages dropped for this connection because it was too slow. */
  _dropped = 0;
  /** @internal The server's set of connections, left when this one closes (no listener per connection). */
  _connections: Set<WebSocket> | null = null;

  constructor(
    address: string | URL | null,
    protocols?: string | string[] | WebSocketOptions,
    options?: WebSocketOptions,
  ) {
    super();
    if (protocols !== undefined && !Array.isArray(protocols) && typeof protocols === 'object') {
      options = protocols;
      protocols = undefined;
    }
    const opts = (options ?? {}) as WebSocketOptions;
    checkConnectionOptions(opts);
    this._options = opts;
    this._isServer = address === null;
    if (address !== null) {
      const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
      connectClient(this, address, list, opts);
    }
  }

  get binaryType(): BinaryType {
    return this._binaryType;
  }

  set binaryType(type: BinaryType) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
  }

  /** Bytes queued to be sent and not yet handed to the operating system. */
  get bufferedAmount(): number {
    let queued = this._protocol === null ? 0 : this._protocol.bufferedAmount;
    if (this._deflate !== null) queued += this._deflate.pendingBytes;
    const socket = this._socket;
    return socket === null ? queued : queued + socket.writableLength;
  }

  /** The names of the negotiated extensions (e.g. 'permessage-deflate'), or ''. */
  get extensions(): string {
    return this._extensions;
  }

  get isPaused(): boolean {
    return this._paused;
  }

  /** The subprotocol chosen by the server, or ''. */
  get protocol(): string {
    return this._subprotocol;
  }

  get readyState(): ReadyState {
    return this._readyState;
  }

  get url(): string {
    return this._url;
  }

  /** @internal Whether both Close frames were exchanged (CloseEvent.wasClean). */
  get wasClean(): boolean {
    return this._sentClose && this._receivedClose;
  }

  // ---- browser-style API ----

  get onopen(): unknown {
    return getAttributeListener(this, 'open');
  }
  set onopen(handler: unknown) {
    setAttributeListener(this, 'open', handler);
  }
  get onmessage(): unknown {
    return getAttributeListener(this, 'message');
  }
  set onmessage(handler: unknown) {
    setAttributeListener(this, 'message', handler);
  }
  get onclose(): unknown {
    return getAttributeListener(this, 'close');
  }
  set onclose(handler: unknown) {
    setAttributeListener(this, 'close', handler);
  }
  get onerror(): unknown {
    return getAttributeListener(this, 'error');
  }
  set onerror(handler: unknown) {
    setAttributeListener(this, 'error', handler);
  }

  addEventListener(
    type: BrowserEventType | string,
    listener: EventListenerLike<never> | null,
    options?: { once?: boolean },
  ): void {
    addEventListener(this, type, listener, options);
  }

  removeEventListener(type: BrowserEventType | string, listener: unknown): void {
    removeEventListener(this, type, listener);
  }

  /** Incoming messages as an async iterator: `for await (const { data, isBinary } of ws)`. Ends when the connection closes. */
  [Symbol.asyncIterator](): AsyncIterableIterator<{ data: unknown; isBinary: boolean }> {
    return messageIterator(this);
  }

  // ---- topics (server side) ----

  /** Subscribes this connection to a topic: it gets what server.publish(topic, ...) sends, from any server sharing the broker. */
  subscribe(topic: string): void {
    this.topics().subscribe(this, topic);
  }

  /** Unsubscribes; returns whether the connection was subscribed. */
  unsubscribe(topic: string): boolean {
    return this.topics().unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this._topics?.isSubscribed(this, topic) ?? false;
  }

  /** The topics this connection is subscribed to. */
  getTopics(): string[] {
    return this._topics?.topicsOf(this) ?? [];
  }

  /** Published messages not sent to this connection because it was over the server's maxBackpressure. */
  get droppedMessages(): number {
    return this._dropped;
  }

  private topics(): Topics {
    if (this._topics === null) {
      throw new WebSocketError(
        'WS_ERR_INVALID_STATE',
        'Topics belong to a server: subscribe() works on the connections a WebSocketServer accepted',
      );
    }
    if (this._readyState === ReadyState.CLOSED) {
      throw new WebSocketError('WS_ERR_INVALID_STATE', 'Cannot subscribe: the connection is closed');
    }
    return this._topics;
  }

  /** @internal Queues bytes framed once for many connections (a publish), in order with other sends. */
  _sendFramed(frame: Buffer): void {
    const protocol = this._protocol;
    if (this._readyState !== ReadyState.OPEN || protocol === null || protocol.closeSent) return;
    if (this._queue !== null) {
      enqueue(this, () => void this._sendFramed(frame));
      return;
    }
    if (this._deflate?.busy) {
      this._deflate.after(() => this._sendFramed(frame));
      return;
    }
    protocol.sendFramed(frame);
    this.queued(undefined);
  }

  // ---- sending ----

  /**
   * Sends a message. Returns false when the send buffer has passed `highWaterMark` (wait for 'drain'),
   * true otherwise. Throws when the connection is still CONNECTING; after it closed, `cb` gets the error.
   */
  send(data: SendData, options?: WebSocketSendOptions | SendCallback, cb?: SendCallback): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === ReadyState.CONNECTING) throw notOpen(this._readyState);
    const payload = isBlob(data) ? data : toPayload(data);
    if (!this.canSend()) {
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return false;
    }
    const isBinary = options?.binary ?? typeof payload !== 'string';
    const fin = options?.fin !== false;
    const compress = options?.compress !== false;
    if (isBlob(payload)) {
      // Read asynchronously: what is sent after it waits in the queue until it has gone out.
      enqueue(this, () =>
        payload.arrayBuffer().then(
          (ab) => void this.sendNow(Buffer.from(ab), isBinary, fin, cb, compress),
          (err: unknown) => cb?.(err as Error),
        ),
      );
      return true;
    }
    if (this._queue !== null) {
      enqueue(this, () => void this.sendNow(payload, isBinary, fin, cb, compress));
      return true;
    }
    return this.sendNow(payload, isBinary, fin, cb, compress);
  }

  /** Sends a Ping (payload of at most 125 bytes). */
  ping(data?: SendData, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(true, data, mask, cb);
  }

  /** Sends an unsolicited Pong (payload of at most 125 bytes). */
  pong(data?: SendData, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(false, data, mask, cb);
  }

  /**
   * Starts the closing handshake. Throws WS_ERR_INVALID_ARGUMENT for a code that may not be sent or a
   * reason over 123 bytes. Called while connecting, it aborts the handshake.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._readyState === ReadyState.CONNECTING) {
      abortConnecting(this, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this._queue !== null) {
      encodeClosePayload(code, reason); // throws now for a bad code or reason
      if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
      enqueue(this, () => void this.closeNow(code, reason));
      return;
    }
    this.closeNow(code, reason);
  }

  /** @internal close() once nothing waits in the queue. */
  closeNow(code?: number, reason?: string | Buffer): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._deflate?.busy) {
      // Messages still being compressed go out before the Close.
      encodeClosePayload(code, reason);
      if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
      this._deflate.after(() => this.closeNow(code, reason));
      return;
    }
    const protocol = this._protocol!;
    if (protocol.closeSent) {
      if (protocol.closeReceived || protocol.error !== null) this._socket?.end();
      return;
    }
    protocol.close(code, reason);
    this._readyState = ReadyState.CLOSING;
    this._sentClose = true;
    flushOutput(this);
    if (protocol.closeReceived) endSocket(this);
    else setCloseTimer(this);
  }

  /** Destroys the connection at once, without a closing handshake (the close code is 1006). */
  terminate(): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._readyState === ReadyState.CONNECTING) {
      abortConnecting(this, 'WebSocket was closed before the connection was established');
      return;
    }
    this._readyState = ReadyState.CLOSING;
    this._socket?.destroy();
  }

  /** Stops reading from the peer until resume(). */
  pause(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this._paused = true;
    this._protocol!.pause();
    this._socket!.pause();
  }

  resume(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this._paused = false;
    // Still inflating a message: reading resumes once it is delivered (receiveDrained).
    if (this._inflating) return;
    this.resumeReading();
  }

  private resumeReading(): void {
    this._socket!.resume();
    this._inReceive = true;
    this._protocol!.resume();
    this._inReceive = false;
    flushOutput(this);
  }

  // ---- ProtocolHandler ----

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    const deflate = this._deflate;
    if (deflate === null) {
      this.emit('message', isBinary ? toBinaryType(data, this._binaryType) : data, isBinary);
      return;
    }
    deflate.receive(data, isBinary, compressed);
    if (deflate.receiving && !this._inflating) {
      // The message inflates on the thread pool: read nothing more until it is delivered. One message
      // at a time is then held in memory however fast the peer sends, and what follows it (a Close,
      // a protocol error) is seen after it.
      this._inflating = true;
      this._protocol!.pause();
      this._socket!.pause();
    }
  }

  /** @internal A message out of the permessage-deflate channel, inflated and in order. */
  deliverMessage(data: Buffer, isBinary: boolean): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this.emit('message', isBinary ? toBinaryType(data, this._binaryType) : data, isBinary);
  }

  /** @internal Inflating failed: fail the connection (1009 for a bomb, 1007 for corrupt data). */
  failMessage(error: WebSocketError): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this._protocol!.fail(error);
    this.receiveDrained(); // read again, to see the peer close TCP (the parser ignores the rest)
  }

  /** @internal The message being inflated was delivered: read again (unless the application paused). */
  receiveDrained(): void {
    if (!this._inflating) return;
    this._inflating = false;
    if (this._paused || this._readyState === ReadyState.CLOSED) return;
    this.resumeReading();
  }

  /** @internal A message out of the permessage-deflate channel, ready to be framed. */
  writeMessage(
    payload: Buffer | string,
    isBinary: boolean,
    rsv1: boolean,
    fin: boolean,
    cb: SendCallback | undefined,
  ): void {
    const protocol = this._protocol;
    if (this._readyState === ReadyState.CLOSED || protocol === null || protocol.closeSent) {
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return;
    }
    protocol.send(payload, isBinary, { fin, rsv1 });
    this.queued(cb);
  }

  /** @internal */
  onPing(data: Buffer): void {
    this.emit('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.emit('pong', data);
  }

  /** @internal */
  onCloseFrame(code: number, reason: Buffer): void {
    this._receivedClose = true;
    this._closeCode = code;
    this._closeReason = reason;
    this._readyState = ReadyState.CLOSING;
    if (!this._protocol!.closeSent && this._deflate?.busy) {
      // Messages still being compressed were sent before the Close came: they go out before our answer.
      this._deflate.after(() => this.closeNow(code === 1005 ? undefined : code, reason));
      return;
    }
    if (this._protocol!.hasOutput) this._sentClose = true;
    flushOutput(this);
    if (this._isServer) endSocket(this);
    else setCloseTimer(this);
  }

  /** @internal Our Close (an answer or a failure) waits for messages still being compressed. */
  deferClose(): boolean {
    return this._deflate?.busy ?? false;
  }

  /** @internal */
  onProtocolError(error: WebSocketError): void {
    // The close event reports the code we failed the connection with (the peer's answer is not read).
    if (!this._receivedClose) this._closeCode = error.closeCode ?? 1002;
    this._readyState = ReadyState.CLOSING;
    if (!this._protocol!.closeSent && this._deflate?.busy) {
      // Messages still being compressed were sent before the failure: they go out before the Close.
      this._deflate.after(() => this.failNow(error.closeCode ?? 1002));
    } else {
      this.failNow();
    }
    this.emitError(error);
  }

  /** @internal Sends the Close that fails the connection (unless one was queued) and ends TCP. */
  failNow(code?: number): void {
    if (this._readyState === ReadyState.CLOSED) return;
    const protocol = this._protocol!;
    if (code !== undefined && !protocol.closeSent) protocol.close(code);
    this._sentClose = true;
    flushOutput(this);
    endSocket(this);
  }

  /** @internal Emits 'error' when someone listens: a peer's misbehaviour must not crash the process. */
  emitError(error: Error): void {
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal Takes over a socket whose opening handshake is done. */
  setSocket(
    socket: Duplex,
    head: Buffer,
    options: {
      protocol?: string;
      extensions?: string;
      deflate?: { params: DeflateParams; settings: ResolvedDeflate; limiter: Limiter };
    },
  ): void {
    const role = this._isServer ? 'server' : 'client';
    this._protocol = new Protocol(this, {
      role,
      maxPayload: this._options.maxPayload,
      autoPong: this._options.autoPong,
      fragmentSize: this._options.fragmentSize,
      generateMask: this._options.generateMask,
      allowRsv1: options.deflate !== undefined,
    });
    if (options.deflate !== undefined) {
      const { params, settings, limiter } = options.deflate;
      const maxPayload = this._options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
      this._deflate = new DeflateChannel(
        new DeflateCodec(params, role, settings.codec, limiter, maxPayload),
        this,
      );
      this._deflateThreshold = settings.threshold;
    }
    this._subprotocol = options.protocol ?? '';
    this._extensions = options.extensions ?? '';
    this._readyState = ReadyState.OPEN;
    attachSocket(this, socket, head);
  }

  /** Whether messages may be queued: OPEN, and no Close frame sent. */
  private canSend(): boolean {
    return this._readyState === ReadyState.OPEN && this._protocol !== null && !this._protocol.closeSent;
  }

  /** @internal Queues a message now; the connection may have closed since send() was called. */
  sendNow(
    payload: Buffer | string,
    isBinary: boolean,
    fin: boolean,
    cb: SendCallback | undefined,
    compress = true,
  ): boolean {
    const protocol = this._protocol;
    if (this._readyState === ReadyState.CLOSED || protocol === null || protocol.closeSent) {
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return false;
    }
    const deflate = this._deflate;
    if (deflate !== null) {
      const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      deflate.send(payload, isBinary, fin, compress && size >= this._deflateThreshold, cb);
      return this.backpressure();
    }
    protocol.send(payload, isBinary, fin ? undefined : { fin: false });
    return this.queued(cb);
  }

  private queued(cb: SendCallback | undefined): boolean {
    if (cb !== undefined) (this._callbacks ??= []).push(cb);
    if (!this._inReceive) scheduleFlush(this);
    return this.backpressure();
  }

  /** Whether the send buffer is under highWaterMark; closes with 1008 past maxBufferedAmount. */
  private backpressure(): boolean {
    if (this._readyState === ReadyState.CLOSED) return false;
    const buffered = this.bufferedAmount;
    const limit = this._options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
    if (limit > 0 && buffered > limit) {
      overflow(this);
      return false;
    }
    if (buffered < (this._options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK)) return true;
    this._needDrain = true;
    return false;
  }

  private control(
    ping: boolean,
    data: SendData | undefined,
    mask: boolean | SendCallback | undefined,
    cb?: SendCallback,
  ): void {
    if (typeof mask === 'function') cb = mask;
    if (this._readyState === ReadyState.CONNECTING) throw notOpen(this._readyState);
    if (isBlob(data)) throw argumentError('Ping and pong payloads cannot be Blobs');
    const payload = data === undefined ? Buffer.alloc(0) : toPayload(data);
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (bytes.length > 125)
      throw argumentError(`Control frame payload of ${bytes.length} bytes: at most 125 fit`);
    if (!this.canSend()) {
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return;
    }
    if (this._queue !== null) enqueue(this, () => void this.controlNow(ping, bytes, cb));
    else this.controlNow(ping, bytes, cb);
  }

  private controlNow(ping: boolean, bytes: Buffer, cb: SendCallback | undefined): void {
    const protocol = this._protocol;
    if (this._readyState === ReadyState.CLOSED || protocol === null || protocol.closeSent) {
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return;
    }
    if (ping) protocol.ping(bytes);
    else protocol.pong(bytes);
    this.queued(cb);
  }
}

export type { IncomingMessage };

/** The data of a 'message' event: a Buffer for text; for binary, what `binaryType` asks for. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | import('node:buffer').Blob;

defineFlagProperties(WebSocket.prototype, {
  _isServer: IS_SERVER,
  _inReceive: IN_RECEIVE,
  _paused: PAUSED,
  _inflating: INFLATING,
  _flushScheduled: FLUSH_SCHEDULED,
  _needDrain: NEED_DRAIN,
  _errorEmitted: ERROR_EMITTED,
  _hbSeen: HB_SEEN,
  _sentClose: SENT_CLOSE,
  _receivedClose: RECEIVED_CLOSE,
});

for (const [name, value] of [
  ['CONNECTING', ReadyState.CONNECTING],
  ['OPEN', ReadyState.OPEN],
  ['CLOSING', ReadyState.CLOSING],
  ['CLOSED', ReadyState.CLOSED],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** Typed listeners for the events a WebSocket emits (declaration merging with the class). */
export interface WebSocket {
  on(event: 'open', listener: (this: WebSocket) => void): this;
  on(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (this: WebSocket, error: Error) => void): this;
  on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  on(event: 'drain', listener: (this: WebSocket) => void): this;
  on(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
  on(
    event: 'unexpected-response',
    listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
  ): this;
  on(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the catch-all overload of Node's EventEmitter
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once(event: 'open', listener: (this: WebSocket) => void): this;
  once(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  once(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  once(event: 'error', listener: (this: WebSocket, error: Error) => void): this;
  once(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the catch-all overload of Node's EventEmitter
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}
