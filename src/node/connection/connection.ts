import { encodeClosePayload } from '../../protocol/close.js';
import { DEFAULT_MAX_PAYLOAD, EMPTY_BUFFER, ReadyState } from '../../protocol/constants.js';
import { WebSocketError } from '../../protocol/errors.js';
import { Protocol, type ProtocolHandler } from '../../protocol/protocol.js';
import { DeflateCodec } from '../deflate/codec.js';
import { InflateChannel, type InflateChannelSink } from '../deflate/inflate-channel.js';
import type { Negotiated } from '../handshake/negotiated.js';
import { CompactEventEmitter } from '../transport/listener-table.js';
import { kWebSocket } from '../transport/socket-slots.js';
import { readThrough, type Transport, type TransportSink } from '../transport/transport.js';
import { defineFlagProperties } from './flag-properties.js';
import type { Heartbeat, HeartbeatMember } from './heartbeat.js';
import {
  type ConnectionOptions,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_READ_PAUSE_BUFFERED_AMOUNT,
} from './options.js';
import { Outbox, type OutboxOwner } from './outbox.js';
import type { ConnectionOwner } from './owner.js';
import { type BinaryType, toBinaryType } from './send-data.js';

// The bits of _flags.
const IS_SERVER = 1;
const IN_RECEIVE = 2;
/** Reading is held: the application paused. */
const PAUSED = 4;
/** Reading is held: a received message inflates on the thread pool. */
const INFLATING = 8;
/** Reading is held: too many bytes wait to be sent (the peer does not read). */
const OUTPUT_FULL = 16;
const HOLDS = PAUSED | INFLATING | OUTPUT_FULL;
const ERROR_EMITTED = 64;
const HB_SEEN = 128;
const SENT_CLOSE = 256;
const RECEIVED_CLOSE = 512;

/**
 * One WebSocket connection after its opening handshake, client or server side: the transport read
 * into the sans-I/O Protocol, its events emitted, its output through one Outbox, and the one place
 * that decides how the connection ends (closing handshake, close timeout, failure, transport loss).
 * The public API (ws's) is the WebSocket class on top of it.
 */
export class Connection
  extends CompactEventEmitter
  implements ProtocolHandler, InflateChannelSink, OutboxOwner, HeartbeatMember
{
  /** @internal */ _readyState: ReadyState = ReadyState.CONNECTING;
  /** The transport (ws's `_socket`): a net.Socket, tls.TLSSocket or LeanSocket; null before open. */
  _socket: Transport | null = null;
  /** @internal */ _protocol: Protocol | null = null;
  /** @internal */ _options: ConnectionOptions;
  /** @internal */ _binaryType: BinaryType = 'nodebuffer';
  /** @internal */ _subprotocol = '';
  /** @internal */ _extensions = '';
  /** @internal */ _closeCode = 1006;
  /** @internal */ _closeReason: Buffer = EMPTY_BUFFER;
  /** @internal */ _closeTimer: NodeJS.Timeout | null = null;
  /** @internal The boolean states, one bit each (accessors defined below the class). */
  _flags = HB_SEEN;
  /** @internal Created with the first output: a silent connection holds none. */
  _outbox: Outbox | null = null;
  /** @internal permessage-deflate's way in, when negotiated. */
  _inflate: InflateChannel | null = null;
  /** @internal The server (its set of clients, its topics), for server-side connections. */
  _owner: ConnectionOwner | null = null;
  /** @internal */ _heartbeat: Heartbeat | null = null;
  /** @internal heartbeat bookkeeping: when a ping went out, when silence began (32-bit ms) */
  _hbPingAt = 0;
  /** @internal */ _hbIdleSince = 0;
  /** @internal */ declare _isServer: boolean;
  /** @internal */ declare _inReceive: boolean;
  /** @internal */ declare _errorEmitted: boolean;
  /** @internal Data seen since the last heartbeat tick. */
  declare _hbSeen: boolean;
  /** @internal */ declare _sentClose: boolean;
  /** @internal */ declare _receivedClose: boolean;

  constructor(isServer: boolean, options: ConnectionOptions) {
    super();
    this._options = options;
    this._isServer = isServer;
  }

  /** @internal Opens the connection on a transport whose opening handshake is done. */
  open(socket: Transport, head: Buffer, negotiated: Negotiated, owner: ConnectionOwner | null = null): void {
    const options = this._options;
    const role = this._isServer ? 'server' : 'client';
    const deflate = negotiated.deflate;
    this._protocol = new Protocol(this, {
      role,
      maxPayload: options.maxPayload,
      autoPong: options.autoPong,
      fragmentSize: options.fragmentSize,
      generateMask: options.generateMask,
      allowRsv1: deflate !== undefined,
    });
    if (deflate !== undefined) {
      const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
      const codec = new DeflateCodec(
        deflate.params,
        role,
        deflate.settings.codec,
        deflate.limiter,
        maxPayload,
      );
      this._inflate = new InflateChannel(codec, this);
    }
    this._subprotocol = negotiated.protocol ?? '';
    this._extensions = negotiated.extensions ?? '';
    this._owner = owner;
    this._readyState = ReadyState.OPEN;
    (socket as unknown as Record<symbol, unknown>)[kWebSocket] = this;
    this._socket = socket;
    socket.setTimeout?.(0);
    socket.setNoDelay?.(true);
    if (head.length > 0) socket.unshift(head);
    readThrough(socket, CONNECTION_SINK);
    // A socket read by wskit's own listener was paused after the request head; one from Node's http
    // server is not flowing yet. Either way, reading starts now.
    socket.resume();
  }

  /** @internal The way out, created with the first output. */
  outbox(): Outbox {
    if (this._outbox !== null) return this._outbox;
    const options = this._options;
    this._outbox = new Outbox(this, this._protocol!, this._socket!, this._inflate?.codec ?? null, {
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      readPauseBufferedAmount: options.readPauseBufferedAmount ?? DEFAULT_READ_PAUSE_BUFFERED_AMOUNT,
      maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
    });
    return this._outbox;
  }

  /** Whether messages may be queued: OPEN, and no Close frame sent. */
  protected canSend(): boolean {
    return this._readyState === ReadyState.OPEN && this._protocol !== null && !this._protocol.closeSent;
  }

  /** Writes what the protocol holds (autoPongs and Close answers need no Outbox until then). */
  private flush(): void {
    if (this._outbox !== null) this._outbox.flush();
    else if (this._protocol?.hasOutput) this.outbox().flush();
  }

  // ---- reading ----

  /** @internal Stops or restarts reading for one reason; reading goes on when no reason holds it. */
  holdReading(reason: number, hold: boolean): void {
    const before = this._flags & HOLDS;
    this._flags = hold ? this._flags | reason : this._flags & ~reason;
    const after = this._flags & HOLDS;
    if (before === 0 && after !== 0) {
      this._protocol!.pause();
      this._socket!.pause();
    } else if (before !== 0 && after === 0 && this._readyState !== ReadyState.CLOSED) {
      this._socket!.resume();
      this._inReceive = true;
      this._protocol!.resume();
      this._inReceive = false;
      this.flush();
    }
  }

  /** @internal */
  get receiving(): boolean {
    return this._inReceive;
  }

  /** @internal */
  receive(chunk: Buffer): void {
    this._hbSeen = true;
    this._inReceive = true;
    try {
      this._protocol!.receive(chunk);
    } finally {
      this._inReceive = false;
    }
    this.flush();
  }

  // ---- ProtocolHandler, InflateChannelSink ----

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    const inflate = this._inflate;
    if (inflate === null) {
      this.emit('message', isBinary ? toBinaryType(data, this._binaryType) : data, isBinary);
      return;
    }
    inflate.receive(data, isBinary, compressed);
    // The message inflates on the thread pool: read nothing more until it is delivered. One message
    // at a time is then held in memory however fast the peer sends, and what follows it (a Close,
    // a protocol error) is seen after it.
    if (inflate.receiving && (this._flags & INFLATING) === 0) this.holdReading(INFLATING, true);
  }

  /** @internal */
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

  /** @internal */
  receiveDrained(): void {
    if ((this._flags & INFLATING) !== 0) this.holdReading(INFLATING, false);
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
    if (this._readyState !== ReadyState.CLOSED) this.holdReading(OUTPUT_FULL, full);
  }

  // ---- how the connection ends ----

  /** @internal close(): the closing handshake starts after everything queued before it. */
  startClose(code?: number, reason?: string | Buffer): void {
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
  private sendClose(code?: number, reason?: string | Buffer): void {
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
    // The close event reports the code we failed the connection with (the peer's answer is not read).
    if (!this._receivedClose) this._closeCode = error.closeCode ?? 1002;
    this._readyState = ReadyState.CLOSING;
    if (!this._protocol!.closeSent && this._outbox?.busy) {
      this._outbox.after(() => this.failNow(error.closeCode ?? 1002));
    } else {
      this.failNow();
    }
    this.emitError(error);
  }

  /** Sends the Close that fails the connection (unless one was queued) and ends TCP. */
  private failNow(code?: number): void {
    if (this._readyState === ReadyState.CLOSED) return;
    const protocol = this._protocol!;
    if (code !== undefined && !protocol.closeSent) protocol.close(code);
    this._sentClose = true;
    this.flush();
    this.endTransport();
  }

  /**
   * @internal The peer does not read fast enough (past maxBufferedAmount, or a server's
   * maxBackpressure with the 'close' policy): drop what is unsent, close with 1008, stop waiting on it.
   */
  overflow(message: string): void {
    const protocol = this._protocol;
    if (protocol === null || this._readyState === ReadyState.CLOSED) return;
    if (!this._receivedClose) this._closeCode = 1008;
    const error = new WebSocketError('WS_ERR_BACKPRESSURE_LIMIT', message, { closeCode: 1008 });
    this.outbox().discard(error);
    if (!protocol.closeSent) protocol.close(1008, 'Send buffer limit exceeded');
    this._sentClose = true;
    this._readyState = ReadyState.CLOSING;
    this.flush();
    this.endTransport();
    this.emitError(error);
  }

  /** Destroys the transport at once, without a closing handshake (terminate()). */
  protected destroyTransport(): void {
    this._readyState = ReadyState.CLOSING;
    this._socket?.destroy();
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
  closed(): void {
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

  /** @internal Emits 'error' when someone listens: a peer's misbehaviour must not crash the process. */
  emitError(error: Error): void {
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  // ---- HeartbeatMember ----

  /** @internal */
  heartbeatJoin(heartbeat: Heartbeat, now: number): void {
    this._heartbeat = heartbeat;
    this._hbSeen = false;
    this._hbPingAt = 0;
    this._hbIdleSince = now;
  }

  /** @internal One tick at `t` (ms since the heartbeat's epoch, never 0). */
  heartbeatCheck(t: number, interval: number, timeout: number): void {
    // A connection the application paused is not read: its silence says nothing about the peer.
    if (this._hbSeen || (this._flags & PAUSED) !== 0) {
      this._hbSeen = false;
      this._hbPingAt = 0;
      this._hbIdleSince = t;
    } else if (this._hbPingAt !== 0) {
      if (t - this._hbPingAt >= timeout) {
        this._heartbeat?.delete(this);
        this.emitError(
          new WebSocketError(
            'WS_ERR_HEARTBEAT_TIMEOUT',
            `No answer to a ping within ${timeout} ms: the connection was terminated`,
          ),
        );
        this.destroyTransport();
      }
    } else if (t - this._hbIdleSince >= interval && this.canSend()) {
      this._hbPingAt = t;
      this.outbox().control(true, EMPTY_BUFFER);
    }
  }

  /** @internal The heartbeat's epoch moved forward by `shift` ms; times stay within `keep` ms of it. */
  heartbeatRebase(shift: number, keep: number): void {
    this._hbIdleSince = Math.max(this._hbIdleSince - shift, -keep) | 0;
    if (this._hbPingAt !== 0) this._hbPingAt = Math.max(this._hbPingAt - shift, 1) | 0;
  }
}

/** The bits of _flags that hold reading, for holdReading(). */
export const HOLD_PAUSED = PAUSED;

defineFlagProperties(Connection.prototype, {
  _isServer: IS_SERVER,
  _inReceive: IN_RECEIVE,
  _errorEmitted: ERROR_EMITTED,
  _hbSeen: HB_SEEN,
  _sentClose: SENT_CLOSE,
  _receivedClose: RECEIVED_CLOSE,
});

function closeTimedOut(connection: Connection): void {
  connection.closeTimedOut();
}

interface ConnectedTransport extends Transport {
  [kWebSocket]: Connection;
}

/** How a connection reads its transport: the same four handlers for every connection. */
const CONNECTION_SINK: TransportSink = Object.freeze({
  data(this: ConnectedTransport, chunk: Buffer) {
    this[kWebSocket].receive(chunk);
  },
  end(this: ConnectedTransport) {
    this[kWebSocket].transportEnded();
  },
  close(this: ConnectedTransport) {
    this[kWebSocket].transportClosed();
  },
  error(this: ConnectedTransport) {
    // A reset or a write to a dead peer: the socket closes and 'close' reports 1006; nothing to throw.
    this.destroy();
  },
} as Record<string, unknown>) as unknown as TransportSink;
