import { Buffer } from 'node:buffer';
import {
  ReadableStream,
  type ReadableStreamDefaultController,
  WritableStream,
  type WritableStreamDefaultController,
} from 'node:stream/web';
import { ReadyState } from '../../protocol/constants.js';
import { argumentError, type CodedError, createError, WebSocketError } from '../../protocol/errors.js';
import { notOpen } from '../connection/not-open.js';
import type { WebSocket } from '../connection/websocket.js';
import { type CloseRequest, closeRequestFor, type WebSocketCloseInfo } from './close-info.js';

/** What the readable side yields: text messages as strings, binary ones as Uint8Arrays. */
export type WebSocketChunk = string | Uint8Array;
/** What the writable side takes: a string (a text message) or bytes (a binary message). */
export type WebSocketWritableChunk = string | ArrayBuffer | ArrayBufferView;

export interface WebStreamsOptions {
  /**
   * Bytes of received messages the readable queues before reading from the socket pauses (TCP
   * then holds the peer back) until the reader catches up. Default 64 KiB.
   */
  readableHighWaterMark?: number;
}

/** A connection as a pair of WHATWG streams, and how it closed. */
export interface WebSocketStreams {
  readable: ReadableStream<WebSocketChunk>;
  writable: WritableStream<WebSocketWritableChunk>;
  /**
   * Resolves with the close code and reason after a closing handshake; rejects with a
   * WebSocketError (closeCode 1006, or the code the connection failed with) otherwise.
   */
  closed: Promise<Required<WebSocketCloseInfo>>;
}

export const DEFAULT_READABLE_HIGH_WATER_MARK = 64 * 1024;

/**
 * An open WebSocket as a ReadableStream of its messages and a WritableStream of messages to send,
 * with backpressure both ways: a full readable queue pauses reading from the socket, a write resolves
 * once the send buffer is under the connection's highWaterMark (or has drained to it). Cancelling the
 * readable or aborting the writable closes the connection (with a WebSocketError reason's closeCode
 * and reason); closing the writable starts the closing handshake and resolves once it is done.
 * The WebSocket's binaryType is left alone (not 'blob'); its own 'message' listeners still get every message.
 */
export function toWebStreams(ws: WebSocket, options: WebStreamsOptions = {}): WebSocketStreams {
  if (ws.readyState !== ReadyState.OPEN) {
    throw createError(
      'WS_ERR_INVALID_STATE',
      'toWebStreams(ws): the WebSocket must be open (on the server: in the connection event; on a client: after open)',
    );
  }
  if (ws.binaryType === 'blob') {
    throw argumentError("toWebStreams(ws): binaryType 'blob' is not supported; leave it 'nodebuffer'");
  }
  return new WebStreamsAdapter(ws, options).streams();
}

class WebStreamsAdapter {
  private readonly ws: WebSocket;
  private readonly readable: ReadableStream<WebSocketChunk>;
  private readonly writable: WritableStream<WebSocketWritableChunk>;
  private readonly closed: Promise<Required<WebSocketCloseInfo>>;
  private reader: ReadableStreamDefaultController<WebSocketChunk> | null = null;
  private writer: WritableStreamDefaultController | null = null;
  /** No more chunks go to the readable (cancelled, closed or errored). */
  private readableDone = false;
  /** writable.close() or abort() was called: it is not errored at the end. */
  private writableDone = false;
  /** A write waiting for 'drain'. */
  private drained: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private lastError: Error | null = null;

  constructor(ws: WebSocket, options: WebStreamsOptions) {
    this.ws = ws;
    const highWaterMark = readableHighWaterMark(options);
    this.readable = new ReadableStream<WebSocketChunk>(
      {
        start: (controller) => {
          this.reader = controller;
        },
        pull: () => {
          if (ws.isPaused) ws.resume();
        },
        cancel: (reason) => {
          this.readableDone = true;
          if (ws.isPaused) ws.resume();
          return this.closeUsing(closeRequestFor(reason));
        },
      },
      { highWaterMark, size: chunkSize },
    );
    this.writable = new WritableStream<WebSocketWritableChunk>({
      start: (controller) => {
        this.writer = controller;
      },
      write: (chunk) => this.write(chunk),
      close: () => {
        this.writableDone = true;
        return this.closeUsing({ code: undefined, reason: '' }, true);
      },
      abort: (reason) => {
        this.writableDone = true;
        return this.closeUsing(closeRequestFor(reason));
      },
    });
    this.closed = new Promise((resolve, reject) => {
      ws.on('close', (code: number, reason: Buffer) => {
        const error = this.ended(code, reason.toString());
        if (error === null) resolve({ closeCode: code, reason: reason.toString() });
        else reject(error);
      });
    });
    // Handled here: a caller that never looks at `closed` gets no unhandled rejection.
    this.closed.catch(() => {});
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.message(data, isBinary),
    );
    ws.on('drain', () => this.settleDrain(null));
    ws.on('error', (err: Error) => {
      this.lastError = err;
    });
  }

  streams(): WebSocketStreams {
    return { readable: this.readable, writable: this.writable, closed: this.closed };
  }

  private message(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const reader = this.reader;
    if (this.readableDone || reader === null) return;
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    reader.enqueue(isBinary ? ownBytes(bytes) : bytes.toString());
    // The queue is full: read nothing more until the reader pulls.
    if ((reader.desiredSize ?? 0) <= 0) this.ws.pause();
  }

  private write(chunk: WebSocketWritableChunk): Promise<void> {
    const ws = this.ws;
    let data: string | Buffer;
    if (typeof chunk === 'string') data = chunk;
    else if (chunk instanceof ArrayBuffer) data = Buffer.from(new Uint8Array(chunk));
    else if (ArrayBuffer.isView(chunk)) {
      // A copy, as the WHATWG algorithm takes: the caller may reuse its buffer once write() resolves.
      data = Buffer.from(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } else {
      return Promise.reject(
        argumentError('A WebSocket writable takes strings, ArrayBuffers and ArrayBufferViews'),
      );
    }
    if (ws.readyState !== ReadyState.OPEN) return Promise.reject(notOpen(ws.readyState));
    if (ws.send(data, { binary: typeof data !== 'string' })) return Promise.resolve();
    // Over highWaterMark: this write resolves, and the next one is taken, once the buffer drains.
    return new Promise((resolve, reject) => {
      this.drained = { resolve, reject };
    });
  }

  private settleDrain(error: Error | null): void {
    const drained = this.drained;
    this.drained = null;
    if (drained === null) return;
    if (error === null) drained.resolve();
    else drained.reject(error);
  }

  /** Closes the connection; resolves once it is closed (rejects if it did not close cleanly). */
  private closeUsing(request: CloseRequest, rejectUnclean = false): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === ReadyState.OPEN) {
      if (request.code === undefined) ws.close();
      else ws.close(request.code, request.reason);
    }
    const done = this.closed.then(() => undefined);
    return rejectUnclean ? done : done.catch(() => undefined);
  }

  /** The connection closed: both streams end; returns the error of an unclean close, or null. */
  private ended(code: number, reason: string): CodedError | null {
    const clean = this.ws.wasClean;
    const error = clean ? null : abnormalClosure(code, this.lastError);
    const closedError =
      error ??
      createError('WS_ERR_NOT_OPEN', `The WebSocket is closed (${code}): nothing more can be sent`, {
        closeCode: code,
        reason,
      });
    this.settleDrain(closedError);
    if (!this.readableDone) {
      this.readableDone = true;
      if (error === null) this.reader?.close();
      else this.reader?.error(error);
    }
    if (!this.writableDone) {
      this.writableDone = true;
      this.writer?.error(closedError);
    }
    return error;
  }
}

/**
 * The error of a connection that ended without a closing handshake: closeCode is the code the
 * connection was failed with (1002, 1009...: the cause's) or else the close code (1006); cause is
 * what was reported as 'error', if anything.
 */
export function abnormalClosure(code: number, cause: Error | null): CodedError {
  const closeCode = cause instanceof WebSocketError && cause.closeCode !== undefined ? cause.closeCode : code;
  const why = cause === null ? '' : `: ${cause.message}`;
  return createError(
    'WS_ERR_ABNORMAL_CLOSURE',
    `The WebSocket connection closed without a closing handshake (${closeCode})${why}`,
    { closeCode, reason: '', cause: cause ?? undefined },
  );
}

/** The readable's high-water mark in bytes; throws WS_ERR_INVALID_ARGUMENT for a bad one. */
export function readableHighWaterMark(options: WebStreamsOptions): number {
  const value = options.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw argumentError(`Option readableHighWaterMark must be a number of bytes ≥ 0; got ${String(value)}`);
  }
  return value;
}

function chunkSize(chunk: WebSocketChunk): number {
  return typeof chunk === 'string' ? chunk.length : chunk.byteLength;
}

/** The message's bytes as a Uint8Array of their own (not a view into a larger received chunk). */
function ownBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}
