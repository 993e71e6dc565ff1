import process from 'node:process';
import { getSystemErrorName } from 'node:util';

/**
 * The parts of Node's own libuv stream bindings (`tcp_wrap`, `stream_wrap`) that LeanSocket drives
 * directly: what `net.Socket` is built on, without the stream machinery on top. They are not a public
 * API, so they are looked up (and their shape checked) once per server, and wskit falls back to
 * `net.Socket` whenever they are missing or look different (see `loadLibuvStream`).
 */

/**
 * A libuv TCP handle as Node's tcp_wrap exposes it (the methods LeanSocket calls), or a pipe handle
 * (pipe_wrap: a unix socket), which has the same stream methods but none of the TCP-only ones
 * (setNoDelay, setKeepAlive, getpeername, getsockname).
 */
export interface TcpHandle {
  /** Must always be a function: Node aborts the process on anything else. */
  onread: (this: TcpHandle, arrayBuffer: ArrayBuffer | undefined) => unknown;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writev(req: WriteRequest, chunks: Uint8Array[], allBuffers: true): number;
  writeUtf8String(req: WriteRequest, data: string): number;
  writeLatin1String(req: WriteRequest, data: string): number;
  shutdown(req: ShutdownRequest): number;
  close(callback?: () => void): void;
  reset?(callback?: () => void): number;
  setNoDelay?(noDelay: boolean): number;
  setKeepAlive?(enable: boolean, delaySeconds: number): number;
  getpeername?(out: Record<string, unknown>): number;
  getsockname?(out: Record<string, unknown>): number;
  ref(): void;
  unref(): void;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  [key: symbol]: unknown;
}

/** A write request (WriteWrap): Node calls `oncomplete(status)` when an asynchronous write ends. */
export interface WriteRequest {
  handle: TcpHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  /** What the write keeps alive until it completes, and who to tell. */
  data: unknown;
  pending: number;
  callback: ((err?: Error | null) => void) | undefined;
}

/** A shutdown request (ShutdownWrap): `oncomplete(status)` once the write side is shut down. */
export interface ShutdownRequest {
  handle: TcpHandle;
  oncomplete: (this: ShutdownRequest, status: number) => void;
}

export interface LibuvStream {
  WriteWrap: new () => WriteRequest;
  ShutdownWrap: new () => ShutdownRequest;
  /** Int32Array shared with C++: the result of the last read, write or shutdown call. */
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
  UV_EOF: number;
  UV_ENOTCONN: number;
  /**
   * A write request whose write completed synchronously, for the next write of this server's sockets
   * (null when none, or while in use).
   */
  spareWrite: WriteRequest | null;
  /** What this server's handles call back (see handleCallbacks in lean-socket.ts). */
  callbacks: HandleCallbacks;
}

/** The functions a server's handles and write/shutdown requests call, and where they find their socket. */
export interface HandleCallbacks {
  owner: symbol;
  onRead(this: TcpHandle, arrayBuffer: ArrayBuffer | undefined): void;
  onWriteComplete(this: WriteRequest, status: number): void;
  onShutdownComplete(this: ShutdownRequest): void;
}

type Binding = (name: string) => Record<string, unknown>;

/**
 * Node's libuv stream bindings, or null when they cannot be used: `process.binding` is gone or
 * throws, an export is missing or of another type, or the process runs with pending deprecations
 * reported (`--pending-deprecation`), where touching `process.binding` would print a warning.
 */
export function loadLibuvStream(callbacks: HandleCallbacks): LibuvStream | null {
  const binding = (process as unknown as { binding?: Binding }).binding;
  if (typeof binding !== 'function') return null;
  if (
    // Node reads its flags with either '-' or '_' between words.
    process.execArgv.some((arg) => /^--pending[-_]deprecation$/.test(arg)) ||
    /(^|\s)--pending[-_]deprecation(\s|$)/.test(process.env.NODE_OPTIONS ?? '') ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  ) {
    return null;
  }
  try {
    const stream = binding.call(process, 'stream_wrap');
    const uv = binding.call(process, 'uv');
    const s = stream as Record<string, unknown>;
    if (
      typeof s.WriteWrap !== 'function' ||
      typeof s.ShutdownWrap !== 'function' ||
      !(s.streamBaseState instanceof Int32Array) ||
      typeof s.kReadBytesOrError !== 'number' ||
      typeof s.kArrayBufferOffset !== 'number' ||
      typeof s.kBytesWritten !== 'number' ||
      typeof s.kLastWriteWasAsync !== 'number' ||
      typeof uv.UV_EOF !== 'number' ||
      typeof uv.UV_ENOTCONN !== 'number'
    ) {
      return null;
    }
    return {
      WriteWrap: s.WriteWrap as LibuvStream['WriteWrap'],
      ShutdownWrap: s.ShutdownWrap as LibuvStream['ShutdownWrap'],
      state: s.streamBaseState,
      kReadBytesOrError: s.kReadBytesOrError,
      kArrayBufferOffset: s.kArrayBufferOffset,
      kBytesWritten: s.kBytesWritten,
      kLastWriteWasAsync: s.kLastWriteWasAsync,
      UV_EOF: uv.UV_EOF,
      UV_ENOTCONN: uv.UV_ENOTCONN,
      spareWrite: null,
      callbacks,
    };
  } catch {
    return null;
  }
}

/**
 * The symbol under which Node's net.Socket hangs itself on its handle (`owner_symbol`: Node creates
 * every TCP and pipe handle with that slot, so a listening one shows it), or undefined.
 */
export function ownerSymbolOf(handle: object): symbol | undefined {
  return Object.getOwnPropertySymbols(handle).find((s) => s.description === 'owner_symbol');
}

/** Whether a value has the methods of a libuv TCP handle that LeanSocket calls. */
export function isTcpHandle(value: unknown): value is TcpHandle {
  if (!isStreamHandle(value)) return false;
  const h = value as unknown as Record<string, unknown>;
  return (
    typeof h.setNoDelay === 'function' &&
    typeof h.setKeepAlive === 'function' &&
    typeof h.getpeername === 'function' &&
    typeof h.getsockname === 'function'
  );
}

/**
 * Whether a value has the stream methods of a libuv handle that LeanSocket calls (a TCP handle, or
 * the pipe handle of a connection to a unix socket).
 */
export function isStreamHandle(value: unknown): value is TcpHandle {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return (
    typeof h.readStart === 'function' &&
    typeof h.readStop === 'function' &&
    typeof h.writeBuffer === 'function' &&
    typeof h.writev === 'function' &&
    typeof h.writeUtf8String === 'function' &&
    typeof h.writeLatin1String === 'function' &&
    typeof h.shutdown === 'function' &&
    typeof h.close === 'function'
  );
}

/** An Error like the ones net.Socket emits for a failed system call (code ECONNRESET etc.). */
export function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = `Unknown system error ${errno}`;
  }
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}
