/**
 * TopicsClient: a reconnecting client of wskit.topics.v1, for browsers and Node. It owns the I/O and
 * the timers: the WebSocket, connecting again with jittered exponential backoff, the heartbeat, the
 * browser's online/offline events. What the protocol means (resubscribing with positions, dropping
 * duplicates, acknowledged publishes, presence) is the session's (session.ts), which has no timer.
 */
import { Backoff, type BackoffOptions } from './backoff.js';
import { type Codec, jsonCodec } from './codec.js';
import { Emitter } from './emitter.js';
import { argumentError, TopicsError } from './errors.js';
import { HeartbeatMonitor, type HeartbeatOptions } from './heartbeat.js';
import {
  type BufferLimits,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_MESSAGES,
  PublishBuffer,
  type PublishResult,
} from './publish-buffer.js';
import { type PublishOptions, TopicsSession } from './session.js';
import type { GapEvent, SubscribeOptions, Subscription } from './subscription.js';
import {
  browserOffline,
  globalWebSocket,
  networkEvents,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket-like.js';
import { type Member, SUBPROTOCOL } from './wire.js';

export interface TopicsClientOptions<T = unknown> extends BufferLimits {
  /** The WebSocket class. Default: the global one (browsers, Node ≥ 22); on Node 20 pass wskit's. */
  WebSocket?: WebSocketConstructor;
  /** How values are turned into payloads and back. Default: JSON text. */
  codec?: Codec<T>;
  /** When to try connecting again. */
  backoff?: BackoffOptions;
  /** The application-level heartbeat; `false` turns it off. Default: ping after 25 s of silence, drop after 10 s more. */
  heartbeat?: HeartbeatOptions | false;
  /** Milliseconds a connection may take to open before it is given up and retried. Default 10,000. */
  connectTimeout?: number;
  /**
   * Whether to reconnect after a connection closed with this code and reason (the client's own
   * close() never reconnects). Default: always.
   */
  shouldReconnect?: (close: { code: number; reason: string }) => boolean;
}

export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed';

export interface OpenEvent {
  /** Whether an earlier connection of this client was open before. */
  reconnected: boolean;
}

export interface CloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
  /** Whether the client will connect again by itself. */
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  /** Retries in a row, from 1. */
  attempt: number;
  /** Milliseconds until the retry. */
  delay: number;
}

export interface TopicsClientEvents {
  open: OpenEvent;
  close: CloseEvent;
  reconnecting: ReconnectingEvent;
  /** The browser lost the network: no retry until it is back (`online`). */
  offline: Record<string, never>;
  /** The browser has the network again: the client connects at once. */
  online: Record<string, never>;
  /** One of the subscriptions missed messages it cannot get back (also on the subscription). */
  gap: GapEvent;
  error: TopicsError;
}

export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Close code of a connection the client gave up on (heartbeat or connect timeout). */
export const CLOSE_GIVEN_UP = 4000;

type Timer = ReturnType<typeof setTimeout>;

/** About how long (ms) before a subscribe refused as `unavailable` (the broker down) is tried again. */
const RETRY_UNAVAILABLE = 2_000;

export class TopicsClient<T = unknown> extends Emitter<TopicsClientEvents> {
  readonly url: string;
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly session: TopicsSession<T>;
  private readonly backoff: Backoff;
  private readonly heartbeat: HeartbeatMonitor | null;
  private readonly connectTimeout: number;
  private readonly shouldReconnect: (close: { code: number; reason: string }) => boolean;
  private socket: WebSocketLike | null = null;
  private openedAt = -1;
  private everOpened = false;
  private _state: ClientState = 'connecting';
  private retryTimer: Timer | undefined;
  private connectTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private readonly laterTimers = new Set<Timer>();
  private readonly network = networkEvents();
  private readonly onOnline = () => this.networkBack();
  private readonly onOffline = () => this.networkLost();

  constructor(url: string | { href: string }, options: TopicsClientOptions<T> = {}) {
    super();
    this.url = checkUrl(typeof url === 'string' ? url : url.href);
    const WebSocketClass = options.WebSocket ?? globalWebSocket();
    if (typeof WebSocketClass !== 'function') {
      throw new TopicsError(
        'TOPICS_ERR_NO_WEBSOCKET',
        'There is no global WebSocket (Node < 22): pass one as the WebSocket option, e.g. `import { WebSocket } from "wskit"`',
      );
    }
    this.WebSocketClass = WebSocketClass;
    this.backoff = new Backoff(options.backoff);
    this.heartbeat = options.heartbeat === false ? null : new HeartbeatMonitor(options.heartbeat);
    this.connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    if (!Number.isFinite(this.connectTimeout) || this.connectTimeout <= 0) {
      throw argumentError(`connectTimeout must be a number of milliseconds > 0; got ${this.connectTimeout}`);
    }
    this.shouldReconnect = options.shouldReconnect ?? (() => true);
    const buffer = new PublishBuffer(
      bound('maxBufferedMessages', options.maxBufferedMessages, DEFAULT_MAX_BUFFERED_MESSAGES),
      bound('maxBufferedBytes', options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES),
    );
    this.session = new TopicsSession<T>(
      options.codec ?? (jsonCodec as Codec<T>),
      buffer,
      {
        send: (text) => this.socket?.send(text),
        gap: (event) => this.emit('gap', event),
        error: (error) => this.emit('error', error),
        later: (action) => {
          const timer = setTimeout(
            () => {
              this.laterTimers.delete(timer);
              action();
            },
            RETRY_UNAVAILABLE * (0.5 + Math.random() / 2),
          );
          this.laterTimers.add(timer);
        },
      },
      randomKeyPrefix(),
    );
    this.network?.addEventListener('online', this.onOnline);
    this.network?.addEventListener('offline', this.onOffline);
    if (browserOffline()) this._state = 'offline';
    else this.connect();
  }

  /** connecting (the first time), open, reconnecting (waiting to retry, or retrying), offline, closed. */
  get state(): ClientState {
    return this._state;
  }

  /** The topics subscribed to. */
  get topics(): string[] {
    return this.session.topics();
  }

  /** Publishes not acknowledged yet (waiting for a connection, or for their `ack`), and their bytes. */
  get buffered(): { messages: number; bytes: number } {
    return this.session.buffered;
  }

  /**
   * Subscribes to `topic`, now and after every reconnect (resuming after the last message received).
   * Throws TOPICS_ERR_INVALID_ARGUMENT for a bad topic or one already subscribed.
   */
  subscribe<M extends T = T, I = unknown>(
    topic: string,
    options: SubscribeOptions<M, I> = {},
  ): Subscription<M, I> {
    return this.session.subscribe<M, I>(topic, options);
  }

  /**
   * Publishes `data` to `topic`; resolves with its offset once the server stored it. While
   * disconnected, the publish waits in the send buffer; it is sent again after a reconnect until
   * acknowledged (with the same key: stored once). Rejects with TOPICS_ERR_BUFFER_FULL past the
   * buffer's bounds, TOPICS_ERR_SERVER if the server refused it, TOPICS_ERR_CLOSED if the client closed.
   */
  publish<M extends T>(topic: string, data: M, options?: PublishOptions): Promise<PublishResult> {
    return this.session.publish(topic, data, options);
  }

  /** The members of `topic`'s presence, asked of the server (waits for a connection). */
  presence<I = unknown>(topic: string): Promise<Member<I>[]> {
    return this.session.presence<I>(topic);
  }

  /** Connects now: skips the wait of a pending retry (or drops the current connection and connects again). */
  reconnect(): void {
    if (this._state === 'closed') return;
    if (this.socket !== null) this.abandon(CLOSE_GIVEN_UP, 'Reconnecting', true);
    this.backoff.reset();
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /** Closes the connection for good: no more retries; waiting publishes and queries fail with TOPICS_ERR_CLOSED. */
  close(code = 1000, reason = ''): void {
    if (this._state === 'closed') return;
    const wasOpen = this.socket !== null && this.openedAt >= 0;
    this._state = 'closed';
    clearTimeout(this.retryTimer);
    for (const timer of this.laterTimers) clearTimeout(timer);
    this.laterTimers.clear();
    this.network?.removeEventListener('online', this.onOnline);
    this.network?.removeEventListener('offline', this.onOffline);
    const socket = this.detach();
    try {
      socket?.close(code, reason);
    } catch {
      socket?.close();
    }
    this.session.close();
    if (wasOpen) this.emit('close', { code, reason, wasClean: true, willReconnect: false });
  }

  // ---- the connection ----

  private connect(): void {
    if (this._state === 'closed' || this.socket !== null) return;
    this._state = this.everOpened || this.backoff.attempt > 0 ? 'reconnecting' : 'connecting';
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(this.url, [SUBPROTOCOL]);
    } catch (err) {
      this.emit(
        'error',
        new TopicsError(
          'TOPICS_ERR_NO_WEBSOCKET',
          `Cannot create a WebSocket to ${this.url}: ${describe(err)}`,
          {
            cause: err,
          },
        ),
      );
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.openedAt = -1;
    socket.addEventListener('open', () => {
      if (this.socket === socket) this.opened(socket);
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      this.heartbeat?.received(now());
      if (typeof event.data === 'string') this.session.receive(event.data);
      else this.session.receiveBinary();
    });
    socket.addEventListener('close', (event) => {
      if (this.socket === socket) this.lost(event.code, event.reason, event.wasClean);
    });
    // An 'error' is always followed by a 'close', which is where the client acts.
    socket.addEventListener('error', () => {});
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket && this.openedAt < 0) {
        this.abandon(CLOSE_GIVEN_UP, `No connection within ${this.connectTimeout} ms`);
      }
    }, this.connectTimeout);
  }

  private opened(socket: WebSocketLike): void {
    clearTimeout(this.connectTimer);
    if (socket.protocol !== SUBPROTOCOL) {
      this.emit(
        'error',
        new TopicsError(
          'TOPICS_ERR_SUBPROTOCOL',
          `The server at ${this.url} did not select ${SUBPROTOCOL} (it selected ${JSON.stringify(socket.protocol)}): is it a wskit.topics.v1 endpoint?`,
        ),
      );
      this.abandon(1000, `${SUBPROTOCOL} was not selected`);
      return;
    }
    this.openedAt = now();
    this._state = 'open';
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.session.connectionOpened();
    if (this.heartbeat !== null) {
      this.heartbeat.start(this.openedAt);
      this.scheduleHeartbeat(this.heartbeat.interval);
    }
    this.emit('open', { reconnected });
  }

  /** The current connection closed (or was given up): tell the session, and retry unless told not to. */
  private lost(code: number, reason: string, wasClean: boolean, forced = false): void {
    const wasOpen = this.openedAt >= 0;
    if (wasOpen && now() - this.openedAt >= this.backoff.options.resetAfter) this.backoff.reset();
    this.detach();
    this.session.connectionLost();
    const willReconnect = forced || this.shouldReconnect({ code, reason });
    if (wasOpen) this.emit('close', { code, reason, wasClean, willReconnect });
    if (this._state === 'closed') return;
    if (forced) return;
    if (willReconnect) this.scheduleRetry();
    else this.close(code, reason);
  }

  /** Gives up on the current connection at once (a dead one may take minutes to report its close). */
  private abandon(code: number, reason: string, forced = false): void {
    const socket = this.socket;
    if (socket === null) return;
    this.lost(code === CLOSE_GIVEN_UP ? 1006 : code, reason, false, forced);
    try {
      socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** Forgets the current socket: its later events are ignored. */
  private detach(): WebSocketLike | null {
    const socket = this.socket;
    this.socket = null;
    this.openedAt = -1;
    clearTimeout(this.connectTimer);
    clearTimeout(this.heartbeatTimer);
    return socket;
  }

  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    if (browserOffline()) {
      this._state = 'offline';
      return;
    }
    const delay = this.backoff.next();
    this._state = 'reconnecting';
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.emit('reconnecting', { attempt: this.backoff.attempt, delay });
  }

  private scheduleHeartbeat(delay: number): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      const heartbeat = this.heartbeat;
      if (heartbeat === null || this.socket === null || this.openedAt < 0) return;
      const { action, next } = heartbeat.check(now());
      if (action === 'dead') {
        this.emit(
          'error',
          new TopicsError(
            'TOPICS_ERR_HEARTBEAT_TIMEOUT',
            `No answer from ${this.url} within ${heartbeat.timeout} ms of a ping: connecting again`,
          ),
        );
        this.abandon(CLOSE_GIVEN_UP, 'No answer to the heartbeat');
        return;
      }
      if (action === 'ping') this.session.ping();
      this.scheduleHeartbeat(next);
    }, delay);
  }

  private networkLost(): void {
    if (this._state === 'closed') return;
    this.emit('offline', {});
    if (this.socket === null) {
      clearTimeout(this.retryTimer);
      this._state = 'offline';
    }
  }

  private networkBack(): void {
    if (this._state === 'closed') return;
    this.emit('online', {});
    if (this.socket === null) {
      this.backoff.reset();
      clearTimeout(this.retryTimer);
      this.connect();
    }
  }
}

function now(): number {
  return performance.now();
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw argumentError(`${JSON.stringify(url)} is not a URL: give a ws:// or wss:// address`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw argumentError(`${JSON.stringify(url)} is not a ws:// or wss:// address`);
  }
  return parsed.href;
}

function bound(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 0)
    throw argumentError(`${name} must be an integer ≥ 0; got ${String(value)}`);
  return n;
}

/** A random prefix for this client's publish keys (16 characters, with room for a counter in 64). */
function randomKeyPrefix(): string {
  const bytes = new Uint8Array(12);
  const crypto = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (crypto !== undefined) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')}:`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
