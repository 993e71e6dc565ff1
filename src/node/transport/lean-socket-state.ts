import type { AddressInfo } from 'node:net';
import type { LibuvStream, TcpHandle } from './libuv-stream.js';
import { LazyEventEmitter } from './listener-table.js';
import { kHead, kWebSocket } from './socket-slots.js';

/** Where a handle holds its LeanSocket when Node's handles have no owner_symbol slot (see handleCallbacks). */
export const kOwner = Symbol('wskit.leanSocket');

/** Above this many bytes waiting in the kernel's way, write() returns false (net.Socket's default). */
export const HIGH_WATER_MARK = 16 * 1024;

// Flags (one number per socket instead of a field per state).
export const DESTROYED = 1;
/** end() was called: nothing more may be written. */
export const ENDING = 2;
/** The write side is shut down ('finish' emitted). */
export const FINISHED = 4;
/** The peer's FIN arrived. */
export const READ_EOF = 8;
/** 'end' was emitted. */
export const END_EMITTED = 16;
/** pause() was called and resume() not yet. */
export const PAUSED = 32;
/** The handle is not reading (readStop), because data arrived while paused. */
export const READ_STOPPED = 64;
/** write() returned false: emit 'drain' once everything is written. */
export const NEED_DRAIN = 128;
/** The shutdown request was made. */
export const SHUTDOWN = 256;
/** A nextTick delivery of held chunks is scheduled. */
export const FLUSH_SCHEDULED = 512;
/** setNoDelay(true) was called: TCP_NODELAY is set just before the next write (it only affects writes). */
export const NO_DELAY_PENDING = 1024;

export type WriteCallback = (err?: Error | null) => void;

/** What a corked LeanSocket holds until uncork(): net.Socket's cork(), for applications that call it. */
export interface CorkState {
  /** cork() calls not yet matched by uncork(). */
  depth: number;
  list: Buffer[] | null;
  callbacks: WriteCallback[] | null;
  bytes: number;
}

/**
 * wskit's own consumer of a LeanSocket (the request-head reader, then the WebSocket):
 * called directly, before any listeners, so that the handshake adds none and each read chunk is
 * not an EventEmitter dispatch. Listeners added by the application still get every event.
 */
export interface LeanSocketSink {
  data(this: LeanSocketState, chunk: Buffer): void;
  end(this: LeanSocketState): void;
  close(this: LeanSocketState, hadError: boolean): void;
  error(this: LeanSocketState, err: Error): void;
}

/**
 * The state of a LeanSocket and what reads it without touching the stream: flags, addresses,
 * options and timers. LeanSocket (lean-socket.ts) adds reading, writing and closing.
 */
export abstract class LeanSocketState extends LazyEventEmitter {
  /** @internal */ _handle: TcpHandle;
  /** @internal */ _lib: LibuvStream;
  /** @internal */ _flags = 0;
  /** Chunks read while paused (or before the first 'data' listener was ready), oldest first. */
  /** @internal */ _held: Buffer[] | null = null;
  /** Bytes handed to the kernel asynchronously and not yet written. */
  /** @internal */ _writing = 0;
  /** Asynchronous write requests not yet complete. */
  /** @internal */ _writes = 0;
  /** @internal What cork() holds back; made by the first cork() (wskit's own writes never cork). */
  _cork: CorkState | null = null;
  /** @internal */ _peer: Record<string, unknown> | null = null;
  /** @internal */ _timer: NodeJS.Timeout | null = null;
  /** @internal wskit's own consumer of this socket's events (see LeanSocketSink). */
  _sink: LeanSocketSink | null = null;
  /** @internal The net.Server that counts this connection until it closes (see acceptLeanSockets). */
  _server: { _connections: number; _emitCloseIfDrained?: () => void } | null = null;
  /** The inactivity timeout set with setTimeout() (0: none). */
  timeout = 0;
  /** @internal */ [kHead]: unknown = undefined;
  /** @internal */ [kWebSocket]: unknown = undefined;

  constructor(handle: TcpHandle, lib: LibuvStream) {
    super();
    this._handle = handle;
    this._lib = lib;
    handle[lib.callbacks.owner] = this;
  }

  get destroyed(): boolean {
    return (this._flags & DESTROYED) !== 0;
  }
  get readable(): boolean {
    return (this._flags & (DESTROYED | READ_EOF)) === 0;
  }
  get writable(): boolean {
    return (this._flags & (DESTROYED | ENDING)) === 0;
  }
  get writableEnded(): boolean {
    return (this._flags & ENDING) !== 0;
  }
  get writableFinished(): boolean {
    return (this._flags & FINISHED) !== 0;
  }
  get readableEnded(): boolean {
    return (this._flags & END_EMITTED) !== 0;
  }
  /** Bytes accepted by write() and not yet handed to the kernel. */
  get writableLength(): number {
    return this._writing + (this._cork === null ? 0 : this._cork.bytes);
  }
  get bufferSize(): number {
    return this.writableLength;
  }
  get writableHighWaterMark(): number {
    return HIGH_WATER_MARK;
  }
  get writableNeedDrain(): boolean {
    return (this._flags & NEED_DRAIN) !== 0;
  }
  get connecting(): boolean {
    return false;
  }
  get pending(): boolean {
    return false;
  }
  get readyState(): 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if ((this._flags & DESTROYED) !== 0) return 'closed';
    const r = (this._flags & READ_EOF) === 0;
    const w = (this._flags & ENDING) === 0;
    return r && w ? 'open' : r ? 'readOnly' : w ? 'writeOnly' : 'closed';
  }
  get bytesRead(): number {
    return this._handle.bytesRead;
  }
  get bytesWritten(): number {
    return this._handle.bytesWritten;
  }

  get remoteAddress(): string | undefined {
    return this.peer().address as string | undefined;
  }
  get remotePort(): number | undefined {
    return this.peer().port as number | undefined;
  }
  get remoteFamily(): string | undefined {
    return this.peer().family as string | undefined;
  }
  get localAddress(): string | undefined {
    return (this.address() as Partial<AddressInfo>).address;
  }
  get localPort(): number | undefined {
    return (this.address() as Partial<AddressInfo>).port;
  }
  get localFamily(): string | undefined {
    return (this.address() as Partial<AddressInfo>).family;
  }

  /** The local address, as net.Socket's address(). */
  address(): AddressInfo | Record<string, never> {
    const out: Record<string, unknown> = {};
    const handle = this._handle;
    // A unix socket's pipe handle has no address (net.Socket's address() is {} then too).
    if ((this._flags & DESTROYED) !== 0 || handle.getsockname?.(out) !== 0) return {};
    return out as unknown as AddressInfo;
  }

  protected peer(): Record<string, unknown> {
    if (this._peer !== null) return this._peer;
    const out: Record<string, unknown> = {};
    if ((this._flags & DESTROYED) !== 0 || this._handle.getpeername?.(out) !== 0) return out;
    this._peer = out;
    return out;
  }

  /**
   * Turns Nagle's algorithm off (or on again). Turning it off takes effect with the next write: an
   * upgraded connection that stays silent never pays the system call.
   */
  setNoDelay(noDelay = true): this {
    // A no-op on a unix socket (a pipe handle has no Nagle's algorithm), as for net.Socket.
    if ((this._flags & DESTROYED) !== 0 || this._handle.setNoDelay === undefined) return this;
    if (noDelay) {
      this._flags |= NO_DELAY_PENDING;
    } else {
      this._flags &= ~NO_DELAY_PENDING;
      this._handle.setNoDelay(false);
    }
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    if ((this._flags & DESTROYED) === 0) this._handle.setKeepAlive?.(enable, Math.trunc(initialDelay / 1000));
    return this;
  }

  /** Emits 'timeout' after `ms` without reads or writes (0 turns it off), as net.Socket does. */
  setTimeout(ms: number, callback?: () => void): this {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this.timeout = ms;
    if (ms > 0 && (this._flags & DESTROYED) === 0) {
      this._timer = setTimeout(emitTimeout, ms, this);
      this._timer.unref();
    }
    if (callback !== undefined) {
      if (ms > 0) this.once('timeout', callback);
      else this.removeListener('timeout', callback);
    }
    return this;
  }

  ref(): this {
    if ((this._flags & DESTROYED) === 0) this._handle.ref();
    return this;
  }

  unref(): this {
    if ((this._flags & DESTROYED) === 0) this._handle.unref();
    return this;
  }

  /** Closes the connection now; 'error' (when given one) and 'close' follow. */
  abstract destroy(error?: Error): this;
}

/** Emits 'timeout'; the timer stays, and the next read or write re-arms it (as net.Socket's). */
function emitTimeout(socket: LeanSocketState): void {
  if ((socket._flags & DESTROYED) === 0) socket.emit('timeout');
}
