import { Buffer } from 'node:buffer';
import process from 'node:process';
import {
  type CorkState,
  DESTROYED,
  END_EMITTED,
  ENDING,
  FINISHED,
  FLUSH_SCHEDULED,
  HIGH_WATER_MARK,
  LeanSocketState,
  NEED_DRAIN,
  NO_DELAY_PENDING,
  PAUSED,
  READ_EOF,
  READ_STOPPED,
  SHUTDOWN,
  type WriteCallback,
} from './lean-socket-state.js';
import {
  errnoError,
  type HandleCallbacks,
  type LibuvStream,
  type ShutdownRequest,
  type TcpHandle,
  type WriteRequest,
} from './libuv-stream.js';

export type { LeanSocketSink } from './lean-socket-state.js';

/**
 * A TCP connection driven straight through Node's libuv handle, for the connections of a server
 * that wskit listens on itself (the `port` option). It has net.Socket's events ('data', 'end',
 * 'finish', 'drain', 'error', 'close', 'timeout'), its write/cork/end/destroy/pause/resume methods and
 * its address properties, but none of the Readable/Writable machinery, whose state costs several KB per
 * connection and a few microseconds per handshake. It is not a stream: it cannot be piped. Pass your
 * own http.Server (`server` option) or set `leanSockets: false` where real `net.Socket`s are needed.
 */
export class LeanSocket extends LeanSocketState {
  constructor(handle: TcpHandle, lib: LibuvStream) {
    super(handle, lib);
    handle.onread = lib.callbacks.onRead;
    const err = handle.readStart();
    if (err !== 0) this.destroy(errnoError(err, 'read'));
  }

  /** Stops 'data' events; reading stops too as soon as a chunk arrives while paused. */
  pause(): this {
    this._flags |= PAUSED;
    return this;
  }

  /** Restarts 'data' events: chunks held meanwhile are emitted first (on the next tick). */
  resume(): this {
    const flags = this._flags;
    if ((flags & PAUSED) === 0 && this._held === null) return this;
    this._flags = flags & ~PAUSED;
    if (this._held !== null || (flags & READ_EOF) !== 0) {
      if ((flags & FLUSH_SCHEDULED) === 0) {
        this._flags |= FLUSH_SCHEDULED;
        process.nextTick(deliverHeld, this);
      }
    } else {
      this.startReading();
    }
    return this;
  }

  isPaused(): boolean {
    return (this._flags & PAUSED) !== 0;
  }

  /** Puts a chunk back in front of what is still to be read (as Readable's unshift). */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this._held === null) this._held = [chunk];
    else this._held.unshift(chunk);
    if ((this._flags & (PAUSED | FLUSH_SCHEDULED)) === 0) {
      this._flags |= FLUSH_SCHEDULED;
      process.nextTick(deliverHeld, this);
    }
  }

  cork(): void {
    if (this._cork === null) this._cork = { depth: 1, list: null, callbacks: null, bytes: 0 };
    else this._cork.depth++;
  }

  uncork(): void {
    const cork = this._cork;
    if (cork === null || cork.depth === 0 || --cork.depth > 0) return;
    const list = cork.list;
    if (list === null) return;
    const callbacks = cork.callbacks;
    cork.list = null;
    cork.callbacks = null;
    cork.bytes = 0;
    let cb: WriteCallback | undefined;
    if (callbacks !== null) {
      cb =
        callbacks.length === 1
          ? callbacks[0]
          : (err) => {
              for (const f of callbacks) f(err);
            };
    }
    this.dispatch(list.length === 1 ? list[0] : list, cb);
  }

  /**
   * @internal Writes several buffers as one write (writev), in order, `cb` once all are written: what
   * cork(), write()... and uncork() do, without the cork.
   */
  writeChunks(list: Buffer[], cb: WriteCallback | undefined): boolean {
    if ((this._flags & (ENDING | DESTROYED)) !== 0) {
      this.failWrite(cb);
      return false;
    }
    const cork = this._cork;
    if (cork !== null && cork.depth > 0) {
      for (const buf of list) this.hold(cork, buf, undefined);
      if (cb !== undefined) (cork.callbacks ??= []).push(cb);
    } else {
      this.dispatch(list, cb);
    }
    return this.afterWrite();
  }

  private hold(cork: CorkState, buf: Buffer, cb: WriteCallback | undefined): void {
    if (cork.list === null) cork.list = [buf];
    else cork.list.push(buf);
    if (cb !== undefined) (cork.callbacks ??= []).push(cb);
    cork.bytes += buf.length;
  }

  /** Writes a Buffer (or a string, as UTF-8). Returns false once the backlog passes 16 KiB. */
  write(
    data: Uint8Array | string,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    let cb = callback;
    let enc: BufferEncoding = 'utf8';
    if (typeof encoding === 'function') cb = encoding;
    else if (encoding !== undefined) enc = encoding;
    if ((this._flags & (ENDING | DESTROYED)) !== 0) {
      this.failWrite(cb);
      return false;
    }
    const cork = this._cork;
    const corked = cork !== null && cork.depth > 0;
    if (typeof data === 'string' && !corked && (enc === 'latin1' || enc === 'utf8')) {
      // Straight to the kernel, without a Buffer (the 101 response of every handshake goes this way).
      this.dispatch(data, cb, enc);
      return this.afterWrite();
    }
    const buf =
      typeof data === 'string'
        ? Buffer.from(data, enc)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (corked) {
      this.hold(cork, buf, cb);
    } else {
      this.dispatch(buf, cb);
    }
    return this.afterWrite();
  }

  /** write()'s answer: false once the backlog passes the high-water mark ('drain' is then owed). */
  private afterWrite(): boolean {
    const ok = this._writing + (this._cork === null ? 0 : this._cork.bytes) < HIGH_WATER_MARK;
    if (!ok) this._flags |= NEED_DRAIN;
    return ok;
  }

  /** Ends the write side once everything written is sent (TCP FIN); 'finish' follows. */
  end(
    data?: Uint8Array | string | WriteCallback,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): this {
    let cb: WriteCallback | undefined;
    if (typeof data === 'function') cb = data;
    else if (typeof encoding === 'function') cb = encoding;
    else cb = callback;
    if (data !== undefined && data !== null && typeof data !== 'function' && (this._flags & ENDING) === 0) {
      this.write(data, typeof encoding === 'string' ? encoding : undefined);
    }
    if (cb !== undefined) {
      if ((this._flags & FINISHED) !== 0) process.nextTick(cb);
      else this.once('finish', cb);
    }
    if ((this._flags & (ENDING | DESTROYED)) !== 0) return this;
    this._flags |= ENDING;
    if (this._cork !== null && this._cork.depth > 0) {
      this._cork.depth = 1;
      this.uncork();
    }
    if (this._writes === 0) this.shutdown();
    return this;
  }

  /** Closes the connection now; 'error' (when given one) and 'close' follow. */
  destroy(error?: Error): this {
    if ((this._flags & DESTROYED) !== 0) return this;
    this.release();
    this._handle.close(() => {
      if (error !== undefined) emitError(this, error);
      emitClose(this, error !== undefined);
    });
    return this;
  }

  /** Closes the connection with a TCP RST instead of a FIN (net.Socket's resetAndDestroy). */
  resetAndDestroy(): this {
    if ((this._flags & DESTROYED) !== 0) return this;
    const handle = this._handle;
    if (typeof handle.reset !== 'function') return this.destroy();
    this.release();
    const done = () => emitClose(this, false);
    if (handle.reset(done) !== 0) handle.close(done);
    return this;
  }

  /** Marks the socket destroyed and lets go of what it held; the handle's closing is the caller's. */
  private release(): void {
    this._flags |= DESTROYED;
    this._held = null;
    this._cork = null;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._handle.onread = ignoreRead;
  }

  /**
   * @internal Hands buffers (or a string, in `encoding`) to the kernel; what it cannot take now
   * completes in onWriteComplete.
   */
  dispatch(
    data: Buffer | Buffer[] | string,
    cb: WriteCallback | undefined,
    encoding?: 'latin1' | 'utf8',
  ): void {
    const lib = this._lib;
    const handle = this._handle;
    if ((this._flags & NO_DELAY_PENDING) !== 0) {
      this._flags &= ~NO_DELAY_PENDING;
      handle.setNoDelay?.(true);
    }
    // A request that completed synchronously was never handed to C++ (Node wraps it only when a
    // write has to wait), so the next write can use it again instead of allocating one.
    let req = lib.spareWrite;
    if (req === null) {
      req = new lib.WriteWrap();
      req.oncomplete = lib.callbacks.onWriteComplete;
      req.data = null;
      req.pending = 0;
    } else {
      lib.spareWrite = null;
    }
    req.handle = handle;
    req.callback = cb;
    let total: number;
    let err: number;
    if (typeof data === 'string') {
      total = -1; // measured only if the write goes asynchronous
      err = encoding === 'latin1' ? handle.writeLatin1String(req, data) : handle.writeUtf8String(req, data);
    } else if (Array.isArray(data)) {
      total = 0;
      for (const b of data) total += b.length;
      err = handle.writev(req, data, true);
    } else {
      total = data.length;
      err = handle.writeBuffer(req, data);
    }
    if (err !== 0) {
      const error = errnoError(err, 'write');
      if (cb !== undefined) process.nextTick(cb, error);
      this.destroy(error);
      return;
    }
    if (this._timer !== null) this._timer.refresh();
    if (lib.state[lib.kLastWriteWasAsync] !== 0) {
      // Counted whole until it completes (as net.Socket's writableLength): Node does not tell how
      // much of it the kernel took at once.
      req.data = data;
      req.pending = total === -1 ? Buffer.byteLength(data as string, encoding) : total;
      this._writing += req.pending;
      this._writes++;
    } else {
      req.callback = undefined;
      lib.spareWrite = req;
      if (cb !== undefined) process.nextTick(cb, null);
      // write() said false (corked bytes past the mark) but everything went at once: 'drain' is owed.
      if (
        (this._flags & NEED_DRAIN) !== 0 &&
        this._writes === 0 &&
        (this._cork === null || this._cork.bytes === 0)
      ) {
        this._flags &= ~NEED_DRAIN;
        process.nextTick(emitDrain, this);
      }
    }
  }

  /** @internal */
  startReading(): void {
    if ((this._flags & READ_STOPPED) === 0) return;
    this._flags &= ~READ_STOPPED;
    if ((this._flags & (DESTROYED | READ_EOF)) !== 0) return;
    const err = this._handle.readStart();
    if (err !== 0) this.destroy(errnoError(err, 'read'));
  }

  /** @internal */
  stopReading(): void {
    if ((this._flags & READ_STOPPED) !== 0) return;
    this._flags |= READ_STOPPED;
    const err = this._handle.readStop();
    if (err !== 0) this.destroy(errnoError(err, 'read'));
  }

  /** @internal The peer sent FIN: 'end', then our own end() (no half-open connections, as net's default). */
  endOfInput(): void {
    this._flags |= END_EMITTED;
    this._sink?.end.call(this);
    if (hasListeners(this)) this.emit('end');
    if ((this._flags & DESTROYED) !== 0) return;
    if ((this._flags & ENDING) === 0) this.end();
    else if ((this._flags & FINISHED) !== 0) this.destroy();
  }

  /** @internal */
  shutdown(): void {
    if ((this._flags & (SHUTDOWN | DESTROYED)) !== 0) return;
    this._flags |= SHUTDOWN;
    const lib = this._lib;
    const req = new lib.ShutdownWrap();
    req.handle = this._handle;
    req.oncomplete = lib.callbacks.onShutdownComplete;
    const err = this._handle.shutdown(req);
    if (err === 1 || err === lib.UV_ENOTCONN) process.nextTick(finish, this);
    else if (err !== 0) this.destroy(errnoError(err, 'shutdown'));
  }

  private failWrite(cb: WriteCallback | undefined): void {
    const destroyed = (this._flags & DESTROYED) !== 0;
    const err: NodeJS.ErrnoException = new Error(
      destroyed ? 'Cannot call write after a socket was destroyed' : 'write after end',
    );
    err.code = destroyed ? 'ERR_STREAM_DESTROYED' : 'ERR_STREAM_WRITE_AFTER_END';
    if (cb !== undefined) process.nextTick(cb, err);
    if (!destroyed) process.nextTick(emitError, this, err);
  }
}

/**
 * The callbacks Node's handles and requests call, for the handles of one server: each finds its
 * LeanSocket on the handle under `owner`, the slot where net.Socket hangs itself (Node's
 * owner_symbol, which every TCP handle is created with), so that a LeanSocket adds no property to its
 * handle, and tools that list a process's active handles see the LeanSocket as they see a net.Socket.
 */
export function handleCallbacks(owner: symbol): HandleCallbacks {
  return {
    owner,
    onRead(this: TcpHandle, arrayBuffer: ArrayBuffer | undefined): void {
      onRead(this[owner] as LeanSocket, arrayBuffer);
    },
    onWriteComplete(this: WriteRequest, status: number): void {
      onWriteComplete(this.handle[owner] as LeanSocket, this, status);
    },
    onShutdownComplete(this: ShutdownRequest): void {
      finish(this.handle[owner] as LeanSocket);
    },
  };
}

function onRead(socket: LeanSocket, arrayBuffer: ArrayBuffer | undefined): void {
  const lib = socket._lib;
  const n = lib.state[lib.kReadBytesOrError];
  if (n > 0) {
    if ((socket._flags & DESTROYED) !== 0 || arrayBuffer === undefined) return;
    if (socket._timer !== null) socket._timer.refresh();
    const chunk = Buffer.from(arrayBuffer, lib.state[lib.kArrayBufferOffset], n);
    if ((socket._flags & PAUSED) !== 0 || socket._held !== null) {
      if (socket._held === null) socket._held = [chunk];
      else socket._held.push(chunk);
      if ((socket._flags & PAUSED) !== 0) socket.stopReading();
      return;
    }
    deliver(socket, chunk);
    return;
  }
  if (n === 0) return;
  if (n !== lib.UV_EOF) {
    socket.destroy(errnoError(n, 'read'));
    return;
  }
  socket._flags |= READ_EOF | READ_STOPPED;
  if (socket._held === null) socket.endOfInput();
}

function deliver(socket: LeanSocket, chunk: Buffer): void {
  // Whether the application listened before the sink saw the chunk: a 'data' listener added by the
  // sink's own events (a 'connection' handler, called while the request head in this chunk is read)
  // must not be handed the request it came after, as on a net.Socket, whose 'data' it would not reach.
  const listened = hasListeners(socket);
  socket._sink?.data.call(socket, chunk);
  if (listened && hasListeners(socket)) socket.emit('data', chunk);
}

/** Whether the application added listeners (wskit's own code uses the sink). */
function hasListeners(socket: LeanSocket): boolean {
  return (socket as unknown as { _eventsCount: number })._eventsCount > 0;
}

function emitClose(socket: LeanSocket, hadError: boolean): void {
  const server = socket._server;
  if (server !== null) {
    socket._server = null;
    server._connections--;
    server._emitCloseIfDrained?.();
  }
  socket._sink?.close.call(socket, hadError);
  if (hasListeners(socket)) socket.emit('close', hadError);
}

/** The read callback of a destroyed socket (Node's handle accepts only a function there). */
function ignoreRead(): void {}

/** Emits the chunks held while paused, then 'end' if the peer's FIN came meanwhile. */
function deliverHeld(socket: LeanSocket): void {
  socket._flags &= ~FLUSH_SCHEDULED;
  let held = socket._held;
  while (held !== null && (socket._flags & (PAUSED | DESTROYED)) === 0) {
    const chunk = held.shift();
    if (held.length === 0) socket._held = null;
    if (chunk !== undefined) deliver(socket, chunk);
    held = socket._held;
  }
  if ((socket._flags & (PAUSED | DESTROYED)) !== 0 || socket._held !== null) return;
  if ((socket._flags & READ_EOF) !== 0) {
    if ((socket._flags & END_EMITTED) === 0) socket.endOfInput();
  } else {
    socket.startReading();
  }
}

function onWriteComplete(socket: LeanSocket, req: WriteRequest, status: number): void {
  socket._writing -= req.pending;
  socket._writes--;
  req.data = null;
  const cb = req.callback;
  if (status < 0) {
    const err = errnoError(status, 'write');
    if (cb !== undefined) cb(err);
    socket.destroy(err);
    return;
  }
  if (cb !== undefined) cb(null);
  if (socket._writes > 0 || (socket._flags & DESTROYED) !== 0) return;
  if ((socket._flags & NEED_DRAIN) !== 0) {
    socket._flags &= ~NEED_DRAIN;
    socket.emit('drain');
  }
  if ((socket._flags & ENDING) !== 0) socket.shutdown();
}

function finish(socket: LeanSocket): void {
  if ((socket._flags & (DESTROYED | FINISHED)) !== 0) return;
  socket._flags |= FINISHED;
  socket.emit('finish');
  if ((socket._flags & END_EMITTED) !== 0) socket.destroy();
}

function emitDrain(socket: LeanSocket): void {
  if ((socket._flags & DESTROYED) === 0) socket.emit('drain');
}

/**
 * Tells the sink and the 'error' listeners there are. Unlike a net.Socket, a LeanSocket with no
 * listener does not throw: the error already closed it (or, after end(), failed a write), and
 * 'close' says so (hadError). wskit's own handling of a socket error is just that.
 */
function emitError(socket: LeanSocket, err: Error): void {
  socket._sink?.error.call(socket, err);
  if (socket.listenerCount('error') > 0) socket.emit('error', err);
}
