import { encodeClosePayload } from '../../protocol/close.js';
import { ReadyState } from '../../protocol/constants.js';
import { createError, type WebSocketError } from '../../protocol/errors.js';
import type { ProtocolHandler } from '../../protocol/protocol.js';
import type { InflateChannelSink } from '../deflate/inflate-channel.js';
import { ConnectionState, HOLD_INFLATING, HOLD_OUTPUT_FULL } from './connection-state.js';
import { DEFAULT_CLOSE_TIMEOUT } from './options.js';
import type { OutboxOwner } from './outbox.js';
import { BINARY_TYPES, toBinaryType } from './send-data.js';

/**
 * One WebSocket connection after its opening handshake, client or server side: the transport read
 * into the sans-I/O Protocol, its events emitted, its output through one Outbox, and the one place
 * that decides how the connection ends (closing handshake, close timeout, failure, transport loss).
 * The public API (ws's) is the WebSocket class on top of it.
 */
export class Connection extends ConnectionState implements ProtocolHandler, InflateChannelSink, OutboxOwner {
  // ---- ProtocolHandler, InflateChannelSink ----

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    const inflate = this._inflate;
    if (inflate === null) {
      this.emit(
        'message',
        isBinary ? toBinaryType(data, BINARY_TYPES[this._binaryTypeIndex]!) : data,
        isBinary,
      );
      return;
    }
    inflate.receive(data, isBinary, compressed);
    // The message inflates on the thread pool: read nothing more until it is delivered. One message
    // at a time is then held in memory however fast the peer sends, and what follows it (a Close,
    // a protocol error) is seen after it.
    if (inflate.receiving && (this._flags & HOLD_INFLATING) === 0) this.holdReading(HOLD_INFLATING, true);
  }

  /** @internal */
  deliverMessage(data: Buffer, isBinary: boolean): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this.emit(
      'message',
      isBinary ? toBinaryType(data, BINARY_TYPES[this._binaryTypeIndex]!) : data,
      isBinary,
    );
  }

  /** @internal Inflating failed: fail the connection (1009 for a bomb, 1007 for corrupt data). */
  failMessage(error: WebSocketError): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this._protocol!.fail(error);
    this.receiveDrained(); // read again, to see the peer close TCP (the parser ignores the rest)
  }

  /** @internal */
  receiveDrained(): void {
    if ((this._flags & HOLD_INFLATING) !== 0) this.holdReading(HOLD_INFLATING, false);
  }

  /** @internal */
  onPing(data: Buffer): void {
    this.emit('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.emit('pong', data);
  }

  // ---- OutboxOwner ----

  /** @internal */
  outboxDrained(): void {
    this.emit('drain');
  }

  /** @internal */
  outboxOverflow(): void {
    this.overflow('More than maxBufferedAmount bytes were waiting to be sent: closed with 1008');
  }

  /** @internal */
  outboxFull(full: boolean): void {
    if (this._readyState !== ReadyState.CLOSED) this.holdReading(HOLD_OUTPUT_FULL, full);
  }

  /**
   * @internal Something sent could not be made (a Blob that cannot be read): the connection fails
   * with 1011, as ws fails it (its callback got the error too).
   */
  outboxFailed(error: Error): void {
    if (this._protocol === null || this._readyState === ReadyState.CLOSED) return;
    this._readyState = ReadyState.CLOSING;
    this.failNow(1011);
    this.emitError(error);
  }

  // ---- how the connection ends ----

  /** @internal close(): the closing handshake starts after everything queued before it. */
  startClose(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): void {
    const outbox = this._outbox;
    if (outbox?.busy) {
      encodeClosePayload(code, reason); // throws now for a bad code or reason
      if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
      outbox.after(() => this.sendClose(code, reason));
      return;
    }
    this.sendClose(code, reason);
  }

  /** Sends our Close (the protocol checks code and reason) and waits for the peer's. */
  private sendClose(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): void {
    if (this._readyState === ReadyState.CLOSED) return;
    const protocol = this._protocol!;
    if (protocol.closeSent) {
      if (protocol.closeReceived || protocol.error !== null) this._socket?.end();
      return;
    }
    protocol.close(code, reason);
    this._readyState = ReadyState.CLOSING;
    this._sentClose = true;
    this.flush();
    if (protocol.closeReceived) this.endTransport();
    else this.armCloseTimer();
  }

  /** @internal */
  onCloseFrame(code: number, reason: Buffer): void {
    this._receivedClose = true;
    this._closeCode = code;
    this._closeReason = reason;
    this._readyState = ReadyState.CLOSING;
    const protocol = this._protocol!;
    if (!protocol.closeSent && this._outbox?.busy) {
      // Messages still on their way were sent before the Close came: they go out before our answer.
      this._outbox.after(() => this.sendClose(code === 1005 ? undefined : code, reason));
      return;
    }
    if (protocol.hasOutput) this._sentClose = true;
    this.flush();
    if (this._isServer) this.endTransport();
    else this.armCloseTimer();
  }

  /** @internal Our Close (an answer or a failure) waits for what is still on its way out. */
  deferClose(): boolean {
    return this._outbox?.busy ?? false;
  }

  /** @internal */
  onProtocolError(error: WebSocketError): void {
    // The close event keeps 1006 unless a Close frame was received (RFC 6455 §7.1.5: the code of the
    // first Close received), as in ws: input is ignored from now on, so the peer's answer is not read.
    // The code sent is the error's closeCode.
    this._readyState = ReadyState.CLOSING;
    if (!this._protocol!.closeSent && this._outbox?.busy) {
      this._outbox.after(() => this.failNow(error.closeCode ?? 1002));
    } else {
      this.failNow();
    }
    this.emitError(error);
  }

  /** Sends the Close that fails the connection (unless one was queued) and ends TCP. */
  private failNow(code?: number, reason?: string): void {
    if (this._readyState === ReadyState.CLOSED) return;
    const protocol = this._protocol!;
    if (code !== undefined && !protocol.closeSent) protocol.close(code, reason);
    this._sentClose = true;
    this.flush();
    this.endTransport();
  }

  /**
   * @internal The peer does not read fast enough (past maxBufferedAmount, or a server's
   * maxBackpressure with the 'close' policy): drop what is unsent, close with 1008, stop waiting on it.
   */
  overflow(message: string): void {
    if (this._protocol === null || this._readyState === ReadyState.CLOSED) return;
    const error = createError('WS_ERR_BACKPRESSURE_LIMIT', message, { closeCode: 1008 });
    this.outbox().discard(error);
    this._readyState = ReadyState.CLOSING;
    this.failNow(1008, 'Send buffer limit exceeded');
    this.emitError(error);
  }

  /** Ends our side of TCP once everything queued is written; destroys it after closeTimeout. */
  private endTransport(): void {
    const socket = this._socket;
    if (socket === null) return;
    socket.end();
    this.armCloseTimer();
  }

  /** Destroys the transport if the peer does not finish closing within closeTimeout. */
  private armCloseTimer(): void {
    if (this._closeTimer !== null || this._socket === null) return;
    const ms = this._options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this._closeTimer = setTimeout(closeTimedOut, ms, this);
    this._closeTimer.unref?.();
  }

  /** @internal The close timeout passed. */
  closeTimedOut(): void {
    this._closeTimer = null;
    this._socket?.destroy();
  }

  /** @internal The peer ended its side of TCP. */
  transportEnded(): void {
    this._protocol!.receiveEof();
    if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
    const socket = this._socket!;
    // Ending a socket that is already ended builds an error (with its stack trace) for nothing.
    if (!socket.writableEnded) socket.end();
  }

  /** @internal The transport closed: the connection is over. */
  transportClosed(): void {
    this._protocol!.receiveEof();
    this._outbox?.closed();
    this.closed();
  }

  /** @internal The connection is over: 'close' with the peer's code (or 1006) and reason. */
  override closed(): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this._readyState = ReadyState.CLOSED;
    if (this._closeTimer !== null) {
      clearTimeout(this._closeTimer);
      this._closeTimer = null;
    }
    this._heartbeat?.delete(this);
    this._heartbeat = null;
    this._inflate?.close();
    this._owner?.release(this);
    this.emit('close', this._closeCode, this._closeReason);
  }
}

function closeTimedOut(connection: Connection): void {
  connection.closeTimedOut();
}
