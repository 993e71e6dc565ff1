import { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import process from 'node:process';
import type { Duplex } from 'node:stream';
import { ReadyState } from '../../protocol/constants.js';
import { argumentError, createError } from '../../protocol/errors.js';
import { Hixie76Protocol } from '../../protocol/hixie76-protocol.js';
import { ClientHandshake, type ClientOptions, type HandshakeClient } from '../handshake/client-handshake.js';
import type { Negotiated } from '../handshake/negotiated.js';
import { HOLD_PAUSED } from './connection-state.js';
import {
  addEventListener,
  type BrowserEventType,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
} from './event-target.js';
import type { EventListenerLike } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { messageIterator } from './message-iterator.js';
import { notOpen } from './not-open.js';
import { type ConnectionOptions, checkConnectionOptions, resolveHeartbeat } from './options.js';
import type { SendCallback } from './outbox.js';
import type { Subscriptions } from './owner.js';
import { PublishTarget } from './publish-target.js';
import { BINARY_TYPES, type BinaryType, isBlob, type SendData, toPayload } from './send-data.js';

export type { SendCallback };

const EMPTY = Buffer.alloc(0);

function byteLength(payload: Buffer | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

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
export class WebSocket extends PublishTarget implements HandshakeClient {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // On the prototype (defined below the class), not on each connection.
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** @internal */ _url = '';
  /** @internal A client's opening handshake in progress. */
  _handshake: ClientHandshake | null = null;
  /**
   * @internal Bytes given to send() once the connection was closing or closed, which bufferedAmount
   * counts (as the WHATWG API and ws do). Declared, not initialised: added by the first such send(),
   * so that open connections do not carry it.
   */
  declare _sentAfterClose?: number;

  constructor(
    address: string | URL | null,
    protocols?: string | string[] | WebSocketOptions,
    options?: WebSocketOptions,
  ) {
    if (
      protocols !== undefined &&
      protocols !== null &&
      !Array.isArray(protocols) &&
      typeof protocols === 'object'
    ) {
      options = protocols;
      protocols = undefined;
    }
    const opts = (options ?? {}) as WebSocketOptions;
    checkConnectionOptions(opts);
    super(address === null, opts);
    if (address !== null) {
      const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
      this._handshake = new ClientHandshake(this, list, opts);
      this._handshake.start(address);
    }
  }

  get binaryType(): BinaryType {
    return BINARY_TYPES[this._binaryTypeIndex]!;
  }

  set binaryType(type: BinaryType) {
    const index = BINARY_TYPES.indexOf(type);
    if (index !== -1) this._binaryTypeIndex = index;
  }

  /** Bytes queued to be sent and not yet handed to the operating system. */
  get bufferedAmount(): number {
    const afterClose = this._sentAfterClose ?? 0;
    if (this._outbox !== null) return this._outbox.bufferedAmount + afterClose;
    const queued = this._protocol === null ? 0 : this._protocol.bufferedAmount;
    return afterClose + (this._socket === null ? queued : queued + this._socket.writableLength);
  }

  /** The names of the negotiated extensions (e.g. 'permessage-deflate'), or ''. */
  get extensions(): string {
    return this._extensions;
  }

  get isPaused(): boolean {
    return (this._flags & HOLD_PAUSED) !== 0;
  }

  /** The subprotocol chosen by the server, or ''. */
  get protocol(): string {
    return this._subprotocol;
  }

  get readyState(): ReadyState {
    return this._readyState;
  }

  get url(): string {
    return this._handshake === null ? this._url : this._handshake.url;
  }

  /** @internal Whether both Close frames were exchanged (CloseEvent.wasClean). */
  get wasClean(): boolean {
    return this._sentClose && this._receivedClose;
  }

  // ---- browser-style API (the on* attributes are defined below the class) ----

  declare onopen: unknown;
  declare onmessage: unknown;
  declare onclose: unknown;
  declare onerror: unknown;

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
    this.subscriptions().subscribe(this, topic);
  }

  /** Unsubscribes; returns whether the connection was subscribed. */
  unsubscribe(topic: string): boolean {
    return this.subscriptions().unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this._owner?.subscriptions?.isSubscribed(this, topic) ?? false;
  }

  /** The topics this connection is subscribed to. */
  getTopics(): string[] {
    return this._owner?.subscriptions?.topicsOf(this) ?? [];
  }

  private subscriptions(): Subscriptions {
    const subscriptions = this._owner?.subscriptions;
    if (subscriptions == null) {
      throw createError(
        'WS_ERR_INVALID_STATE',
        'Topics belong to a server: subscribe() works on the connections a WebSocketServer accepted',
      );
    }
    if (this._readyState === ReadyState.CLOSED) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot subscribe: the connection is closed');
    }
    return subscriptions;
  }

  // ---- sending ----

  /**
   * Sends a message. Returns false when the send buffer has passed `highWaterMark` (wait for 'drain'),
   * true otherwise. Throws when the connection is still CONNECTING; after it closed, `cb` gets the error.
   */
  send(data?: SendData, options?: WebSocketSendOptions | SendCallback, cb?: SendCallback): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === ReadyState.CONNECTING) throw notOpen(this._readyState);
    // send() with no data sends an empty binary message, as in ws.
    const payload = data === undefined ? EMPTY : isBlob(data) ? data : toPayload(data);
    if (!this.canSend()) {
      const size = isBlob(payload) ? payload.size : byteLength(payload);
      if (size > 0) this._sentAfterClose = (this._sentAfterClose ?? 0) + size;
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return false;
    }
    const isBinary = options?.binary ?? typeof payload !== 'string';
    const fin = options?.fin !== false;
    const compress = options?.compress !== false;
    if (isBlob(payload)) {
      // legacy: a Blob is read later, where hixie-76's refusal could no longer be thrown.
      if (this._protocol instanceof Hixie76Protocol) this._protocol.refuseBlob();
      this.outbox().blob(payload, isBinary, fin, compress, cb);
      return true;
    }
    return this.outbox().message(payload, isBinary, fin, compress, cb);
  }

  /** Sends a Ping (payload of at most 125 bytes). */
  ping(data?: SendData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(true, data, mask, cb);
  }

  /** Sends an unsolicited Pong (payload of at most 125 bytes). */
  pong(data?: SendData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(false, data, mask, cb);
  }

  /**
   * Starts the closing handshake. Throws WS_ERR_INVALID_ARGUMENT for a code that may not be sent or a
   * reason over 123 bytes. Called while connecting, it aborts the handshake.
   */
  close(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._readyState === ReadyState.CONNECTING) {
      this.abortConnecting();
      return;
    }
    // A client whose handshake failed is closing without ever having opened (close() from its
    // 'error' listener): nothing to close.
    if (this._protocol === null) return;
    this.startClose(code, reason);
  }

  /** Destroys the connection at once, without a closing handshake (the close code is 1006). */
  terminate(): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._readyState === ReadyState.CONNECTING) {
      this.abortConnecting();
      return;
    }
    this.destroyTransport();
  }

  /** Stops reading from the peer until resume(). */
  pause(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this.holdReading(HOLD_PAUSED, true);
  }

  resume(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this.holdReading(HOLD_PAUSED, false);
  }

  private control(
    ping: boolean,
    data: SendData | SendCallback | undefined,
    mask: boolean | SendCallback | undefined,
    cb?: SendCallback,
  ): void {
    // ping(cb) and ping(data, cb), as in ws.
    if (typeof data === 'function') {
      cb = data as SendCallback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    if (this._readyState === ReadyState.CONNECTING) throw notOpen(this._readyState);
    // A Blob is read first, as for send(), and sent in its turn (as ws 8.18+ does).
    if (isBlob(data)) {
      if (data.size > 125)
        throw argumentError(
          'The data size must not be greater than 125 bytes',
          'RangeError',
          `a control frame payload of ${data.size} bytes: at most 125 fit`,
        );
      if (!this.canSend()) {
        if (data.size > 0) this._sentAfterClose = (this._sentAfterClose ?? 0) + data.size;
        if (cb) process.nextTick(cb, notOpen(this._readyState));
        return;
      }
      this.outbox().controlBlob(ping, data, cb);
      return;
    }
    const payload = data === undefined ? Buffer.alloc(0) : toPayload(data);
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (bytes.length > 125)
      throw argumentError(
        'The data size must not be greater than 125 bytes',
        'RangeError',
        `a control frame payload of ${bytes.length} bytes: at most 125 fit`,
      );
    if (!this.canSend()) {
      // Counted in bufferedAmount as send()'s are, as ws counts them.
      if (bytes.length > 0) this._sentAfterClose = (this._sentAfterClose ?? 0) + bytes.length;
      if (cb) process.nextTick(cb, notOpen(this._readyState));
      return;
    }
    this.outbox().control(ping, bytes, cb);
  }

  /**
   * ws's setSocket(): opens this connection (made with `new WebSocket(null)`) on a socket whose
   * opening handshake was done elsewhere, with no extension or subprotocol, and emits 'open'. Used by
   * tools that build connections by hand (a test injector, a proxy); servers do this by themselves.
   */
  setSocket(
    socket: Duplex,
    head: Buffer,
    options?: Pick<ConnectionOptions, 'maxPayload' | 'generateMask'>,
  ): void {
    if (this._readyState !== ReadyState.CONNECTING || this._socket !== null) {
      throw createError('WS_ERR_INVALID_STATE', 'setSocket(): the connection already has a socket');
    }
    if (options !== undefined) {
      const overrides: ConnectionOptions = {};
      if (options.maxPayload !== undefined) overrides.maxPayload = options.maxPayload;
      if (options.generateMask !== undefined) overrides.generateMask = options.generateMask;
      this._options = { ...this._options, ...overrides };
      checkConnectionOptions(this._options);
    }
    this.open(socket, head, {});
    this.emit('open');
  }

  /**
   * @internal ws's Sender as engine.io uses it: `_sender.sendFrame(list, cb)` writes a frame that
   * ws's `Sender.frame()` built once for many connections (Socket.IO's broadcasts), instead of each
   * connection framing the message again. Server side only, as there (client frames are masked each).
   */
  get _sender(): { sendFrame(list: readonly Buffer[], cb?: SendCallback): void } | undefined {
    if (!this._isServer) return undefined;
    return {
      sendFrame: (list, cb) => {
        if (!this.canSend()) {
          if (cb) process.nextTick(cb, notOpen(this._readyState));
          return;
        }
        this.outbox().framed(list.length === 1 ? list[0] : Buffer.concat(list), cb);
      },
    };
  }

  // ---- the client's opening handshake (HandshakeClient) ----

  private endHandshake(): ClientHandshake | null {
    const handshake = this._handshake;
    if (handshake !== null) this._url = handshake.url;
    this._handshake = null;
    return handshake;
  }

  private abortConnecting(): void {
    this.handshakeFailed(
      createError('WS_ERR_HANDSHAKE_REJECTED', 'WebSocket was closed before the connection was established'),
    );
  }

  /** @internal 'error' then 'close' (1006). */
  handshakeFailed(error: Error): void {
    if (this._readyState !== ReadyState.CONNECTING) return;
    this._readyState = ReadyState.CLOSING;
    this.endHandshake()?.abort();
    this._socket?.destroy();
    process.nextTick(() => {
      this.emitError(error);
      this.closed();
    });
  }

  /** @internal */
  handshakeDone(socket: Duplex, head: Buffer, negotiated: Negotiated): void {
    this.endHandshake();
    this.open(socket, head, negotiated);
    const heartbeat = resolveHeartbeat(this._options.heartbeat, false);
    if (heartbeat !== null) new Heartbeat(heartbeat.interval, heartbeat.timeout).add(this);
    this.emit('open');
  }
}

export type { IncomingMessage };

/** The data of a 'message' event: a Buffer for text; for binary, what `binaryType` asks for. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | import('node:buffer').Blob;

// The property descriptors of ws's WebSocket: the ready-state constants read-only and enumerable on
// the class and its prototype, the accessors enumerable.
for (const [name, value] of [
  ['CONNECTING', ReadyState.CONNECTING],
  ['OPEN', ReadyState.OPEN],
  ['CLOSING', ReadyState.CLOSING],
  ['CLOSED', ReadyState.CLOSED],
] as const) {
  const constant = { value, enumerable: true, writable: false, configurable: false };
  Object.defineProperty(WebSocket, name, constant);
  Object.defineProperty(WebSocket.prototype, name, constant);
}
for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

for (const type of ['open', 'message', 'close', 'error'] as const) {
  Object.defineProperty(WebSocket.prototype, `on${type}`, {
    get(this: WebSocket) {
      return getAttributeListener(this, type);
    },
    set(this: WebSocket, handler: unknown) {
      setAttributeListener(this, type, handler);
    },
    enumerable: true,
    // Configurable, as ws's (and the WHATWG interface's) attributes are.
    configurable: true,
  });
}

/** Typed listeners for the events a WebSocket emits (declaration merging with the class). */
/** The events of a WebSocket and their arguments (ws's). */
export interface WebSocketEvents {
  open: [];
  message: [data: RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  drain: [];
  upgrade: [response: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

type WebSocketListener<E extends keyof WebSocketEvents> = (
  this: WebSocket,
  ...args: WebSocketEvents[E]
) => void;
// biome-ignore lint/suspicious/noExplicitAny: the catch-all overload of Node's EventEmitter
type AnyWebSocketListener = (this: WebSocket, ...args: any[]) => void;

/** Typed listeners for the events a WebSocket emits (declaration merging with the class). */
export interface WebSocket {
  on<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  on(event: string | symbol, listener: AnyWebSocketListener): this;
  once<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  once(event: string | symbol, listener: AnyWebSocketListener): this;
  off<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  off(event: string | symbol, listener: AnyWebSocketListener): this;
  addListener<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  addListener(event: string | symbol, listener: AnyWebSocketListener): this;
  removeListener<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  removeListener(event: string | symbol, listener: AnyWebSocketListener): this;
  prependListener<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  prependListener(event: string | symbol, listener: AnyWebSocketListener): this;
  prependOnceListener<E extends keyof WebSocketEvents>(event: E, listener: WebSocketListener<E>): this;
  prependOnceListener(event: string | symbol, listener: AnyWebSocketListener): this;
}
