import { DEFAULT_MAX_PAYLOAD, EMPTY_BUFFER, ReadyState } from '../../protocol/constants.js';
import { createError } from '../../protocol/errors.js';
import { Protocol, type ProtocolHandler, type ProtocolOptions } from '../../protocol/protocol.js';
import { DeflateCodec } from '../deflate/codec.js';
import { InflateChannel, type InflateChannelSink } from '../deflate/inflate-channel.js';
import type { Negotiated } from '../handshake/negotiated.js';
import { CompactEventEmitter } from '../transport/listener-table.js';
import { readInto, type Transport, type TransportReader } from '../transport/transport.js';
import { defineFlagProperties, defineIntegerFlagProperties } from './flag-properties.js';
import type { FlushBatch } from './flush-batch.js';
import type { Heartbeat, HeartbeatMember } from './heartbeat.js';
import {
  type ConnectionOptions,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_READ_PAUSE_BUFFERED_AMOUNT,
} from './options.js';
import { Outbox, type OutboxOwner } from './outbox.js';
import type { ConnectionOwner } from './owner.js';

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
// Integer fields in _flags (see defineIntegerFlagProperties below the class): [shift, width].
const READY_STATE: readonly [number, number] = [10, 2];
/** The index of the binaryType in BINARY_TYPES. */
const BINARY_TYPE: readonly [number, number] = [12, 2];
/** Close codes are below 5000 (RFC 6455 §7.4: 1000-4999, and 1005/1006, which are never sent). */
const CLOSE_CODE: readonly [number, number] = [14, 13];

/**
 * The state of one connection and the wiring of its I/O: the transport read into the Protocol, the
 * reasons that hold reading, the Outbox, the heartbeat's view of it. Connection (its behaviour:
 * events, how it ends) and WebSocket (ws's API) are built on it.
 */
export abstract class ConnectionState extends CompactEventEmitter implements HeartbeatMember {
  /** @internal CONNECTING (0) until open() (bits of _flags). */
  declare _readyState: ReadyState;
  /** The transport (ws's `_socket`): a net.Socket, tls.TLSSocket or LeanSocket; null before open. */
  _socket: Transport | null = null;
  /** @internal */ _protocol: Protocol | null = null;
  /** @internal */ _options: ConnectionOptions;
  /** @internal 'nodebuffer' (index 0) until changed (bits of _flags). */
  declare _binaryTypeIndex: number;
  /** @internal */ _subprotocol = '';
  /** @internal */ _extensions = '';
  /** @internal 1006 until a close code is known (bits of _flags). */
  declare _closeCode: number;
  /** @internal */ _closeReason: Buffer = EMPTY_BUFFER;
  /** @internal */ _closeTimer: NodeJS.Timeout | null = null;
  /** @internal The boolean states, one bit each, and the small integers (accessors below the class). */
  _flags = HB_SEEN | (1006 << CLOSE_CODE[0]);
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
    const protocolOptions: ProtocolOptions = {
      role,
      maxPayload: options.maxPayload,
      autoPong: options.autoPong,
      fragmentSize: options.fragmentSize,
      generateMask: options.generateMask,
      allowRsv1: deflate !== undefined,
      receiveLimits: options,
    };
    this._protocol =
      negotiated.framing === undefined
        ? new Protocol(this.handler(), protocolOptions)
        : negotiated.framing(this.handler(), protocolOptions);
    if (deflate !== undefined) {
      const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
      const codec = new DeflateCodec(
        deflate.params,
        role,
        deflate.settings.codec,
        deflate.limiter,
        maxPayload,
        deflate.budget,
      );
      this._inflate = new InflateChannel(codec, this.handler(), options.skipUTF8Validation !== true);
    }
    this._subprotocol = negotiated.protocol ?? '';
    this._extensions = negotiated.extensions ?? '';
    this._owner = owner;
    this._readyState = ReadyState.OPEN;
    this._socket = socket;
    socket.setTimeout?.(0);
    socket.setNoDelay?.(true);
    if (head.length > 0) socket.unshift(head);
    readInto(socket, this.handler());
    // A socket read by wskit's own listener was paused after the request head; one from Node's http
    // server is not flowing yet. Either way, reading starts now.
    socket.resume();
  }

  /** @internal The way out, created with the first output. */
  outbox(): Outbox {
    if (this._outbox !== null) return this._outbox;
    const options = this._options;
    this._outbox = new Outbox(this.handler(), this._protocol!, this._socket!, this._inflate?.codec ?? null, {
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
  protected flush(): void {
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

  /** @internal A server's connections flush together (see FlushBatch); a client's on its own. */
  get flushBatch(): FlushBatch | null {
    return this._owner === null ? null : this._owner.flushBatch;
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

  /** Destroys the transport at once, without a closing handshake (terminate()). */
  protected destroyTransport(): void {
    this._readyState = ReadyState.CLOSING;
    this._socket?.destroy();
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
          createError(
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
  /** @internal The connection is over: 'close' with the peer's code (or 1006) and reason. */
  abstract closed(): void;

  /** What the protocol, the transport, the Outbox and permessage-deflate report to: Connection. */
  private handler(): ProtocolHandler & InflateChannelSink & OutboxOwner & TransportReader {
    return this as unknown as ProtocolHandler & InflateChannelSink & OutboxOwner & TransportReader;
  }
}

/** The bits of _flags that hold reading, for holdReading(). */
export const HOLD_PAUSED = PAUSED;
export const HOLD_INFLATING = INFLATING;
export const HOLD_OUTPUT_FULL = OUTPUT_FULL;

defineIntegerFlagProperties(ConnectionState.prototype, {
  _readyState: READY_STATE,
  _binaryTypeIndex: BINARY_TYPE,
  _closeCode: CLOSE_CODE,
});

defineFlagProperties(ConnectionState.prototype, {
  _isServer: IS_SERVER,
  _inReceive: IN_RECEIVE,
  _errorEmitted: ERROR_EMITTED,
  _hbSeen: HB_SEEN,
  _sentClose: SENT_CLOSE,
  _receivedClose: RECEIVED_CLOSE,
});
