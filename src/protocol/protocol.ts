import { Buffer } from 'node:buffer';
import { decodeClosePayload, encodeClosePayload } from './close.js';
import { DEFAULT_MAX_PAYLOAD, EMPTY_BUFFER, MAX_CONTROL_PAYLOAD, Opcode, ReadyState } from './constants.js';
import { argumentError, createError, WebSocketError } from './errors.js';
import { type FrameHandler, FrameParser } from './frame-parser.js';
import { type MaskGenerator, MaskKeySource } from './mask-key-source.js';
import { MessageAssembler, type MessageSink } from './message-assembler.js';
import { OutputQueue } from './output-queue.js';

/** What a Protocol reports. Each method is called synchronously from receive(). */
export interface ProtocolHandler {
  /** A whole message: text as validated UTF-8 bytes, or binary. */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void;
  /** A Ping arrived (already answered with a Pong when autoPong is on). */
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /**
   * The peer's Close frame arrived (already answered, unless a Close had been sent or deferClose()
   * said to wait: the handler then answers with close()).
   */
  onCloseFrame(code: number, reason: Buffer): void;
  /**
   * The peer broke the protocol: a Close with `error.closeCode` is queued (unless deferClose() said to
   * wait: the handler then sends it with close()) and input is ignored from now on.
   */
  onProtocolError(error: WebSocketError): void;
  /**
   * Whether the Close the protocol is about to queue (an answer, or a failure) must wait: messages the
   * application sent before are still on their way (being compressed), and go first (§5.5.1).
   */
  deferClose?(): boolean;
}

export interface ProtocolOptions {
  /** 'server' expects masked frames and sends unmasked ones; 'client' the reverse. */
  role: 'server' | 'client';
  /** The largest incoming message, in bytes (default 100 MiB; 0 for no limit). */
  maxPayload?: number;
  /** Answer each Ping with a Pong carrying the same payload (default true). */
  autoPong?: boolean;
  /** Split outgoing messages into frames of at most this many bytes (default 0: never split). */
  fragmentSize?: number;
  /** Accept RSV1 on the first frame of a message: set when permessage-deflate was negotiated. */
  allowRsv1?: boolean;
  /** Custom masking keys (client role); the default draws them from a pool of crypto random bytes. */
  generateMask?: MaskGenerator;
  /**
   * Limits on how a message may arrive, ws's options of the same names. Kept by reference: pass one
   * object shared by the connections of a server.
   */
  receiveLimits?: ReceiveLimits;
}

/** ws's limits on the pieces a message arrives in, and its switch for UTF-8 validation. */
export interface ReceiveLimits {
  /**
   * The most chunks of input (reads from the transport) one frame may arrive in; more fail the
   * connection with 1008 (WS_ERR_TOO_MANY_BUFFERED_PARTS). Default 0: no limit (the memory of a frame
   * is bounded by its size, however many chunks it arrives in).
   */
  maxBufferedChunks?: number;
  /**
   * The most frames one message may arrive in; more fail the connection with 1008
   * (WS_ERR_TOO_MANY_BUFFERED_PARTS). Default 0: no limit.
   */
  maxFragments?: number;
  /**
   * Do not check that text messages and close reasons are UTF-8 (RFC 6455 §8.1 requires it). For
   * peers you trust, as in ws. Default false.
   */
  skipUTF8Validation?: boolean;
}

const NO_LIMITS: ReceiveLimits = Object.freeze({});

// The bits of Protocol.bits.
const SERVER = 1;
const AUTO_PONG = 2;
const RSV1_ALLOWED = 4;
const CLOSE_SENT = 8;
const CLOSE_RECEIVED = 16;
/** Two bits: the ReadyState (OPEN 1, CLOSING 2, CLOSED 3). */
const STATE_SHIFT = 5;
/** Four bits: the opcode of a message sent in parts, 0 when none is. */
const OPCODE_SHIFT = 7;
const SENDING_OPCODE = 0xf << OPCODE_SHIFT;
/**
 * The rest: how many handler calls are in progress. A throw that leaves one of them unfinished is the
 * application's (a listener's), not a violation by the peer: it is thrown on, as ws lets it.
 */
const DEPTH_SHIFT = 11;
const DEPTH_ONE = 1 << DEPTH_SHIFT;

export interface SendOptions {
  /** Whether this frame ends the message (default true). Send later parts with the same type. */
  fin?: boolean;
  /** Set RSV1 on the first frame (the payload is compressed by a negotiated extension). */
  rsv1?: boolean;
}

/**
 * The sans-I/O WebSocket protocol (RFC 6455) for one connection, after the opening handshake: bytes
 * in through receive(), events out through the handler, bytes out through takeOutput(). It owns the
 * close state machine (OPEN → CLOSING → CLOSED); it touches no socket and no timer.
 */
export class Protocol implements FrameHandler, MessageSink {
  private readonly handler: ProtocolHandler;
  /**
   * The booleans, the ready state and the opcode of a message sent in parts, in one small integer
   * (one field per connection instead of seven: see the bit constants above the class).
   */
  private bits: number;
  private payloadLimit: number;
  // What the output queue and send() are created with (a client's masking keys, fragmentation).
  private readonly generateMask: MaskGenerator | undefined;
  private readonly fragmentSize: number;
  /** Kept by reference: one object shared by the connections of a server. */
  private readonly limits: ReceiveLimits;
  // Created on first use: a connection that is only open (most of a big server's) holds none of them.
  private _parser: FrameParser | null = null;
  private _assembler: MessageAssembler | null = null;
  private _output: OutputQueue | null = null;
  /** The code of the peer's Close frame (1005 when it had none), or 1006 until one arrives. */
  closeCode = 1006;
  closeReason: Buffer = EMPTY_BUFFER;
  /** The protocol error that failed the connection, if any. */
  error: WebSocketError | null = null;

  constructor(handler: ProtocolHandler, options: ProtocolOptions) {
    this.handler = handler;
    this.bits =
      (options.role === 'server' ? SERVER : 0) |
      (options.allowRsv1 === true ? RSV1_ALLOWED : 0) |
      (options.autoPong === false ? 0 : AUTO_PONG) |
      (ReadyState.OPEN << STATE_SHIFT);
    this.payloadLimit = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.generateMask = options.generateMask;
    this.limits = options.receiveLimits ?? NO_LIMITS;
    this.fragmentSize = options.fragmentSize ?? 0;
  }

  /** 'server' expects masked frames and sends unmasked ones; 'client' the reverse. */
  get role(): 'server' | 'client' {
    return (this.bits & SERVER) !== 0 ? 'server' : 'client';
  }

  /** Answer each Ping with a Pong carrying the same payload. */
  get autoPong(): boolean {
    return (this.bits & AUTO_PONG) !== 0;
  }
  set autoPong(value: boolean) {
    this.bits = value ? this.bits | AUTO_PONG : this.bits & ~AUTO_PONG;
  }

  /** OPEN, CLOSING (one Close frame sent or received) or CLOSED (both, or the transport ended). */
  get state(): ReadyState {
    return ((this.bits >> STATE_SHIFT) & 3) as ReadyState;
  }

  /** @internal For Hixie76Protocol, which keeps the same states. */
  protected setState(value: ReadyState): void {
    this.bits = (this.bits & ~(3 << STATE_SHIFT)) | (value << STATE_SHIFT);
  }

  /** @internal */
  protected markCloseSent(): void {
    this.bits |= CLOSE_SENT;
  }

  /** @internal */
  protected markCloseReceived(): void {
    this.bits |= CLOSE_RECEIVED;
  }

  /** A Close frame was queued. */
  get closeSent(): boolean {
    return (this.bits & CLOSE_SENT) !== 0;
  }

  /** The peer's Close frame arrived. */
  get closeReceived(): boolean {
    return (this.bits & CLOSE_RECEIVED) !== 0;
  }

  /** Opcode of an outgoing message sent in parts (send with fin: false) and not yet finished. */
  private get sendingOpcode(): number {
    return (this.bits >> OPCODE_SHIFT) & 0xf;
  }
  private set sendingOpcode(value: number) {
    this.bits = (this.bits & ~SENDING_OPCODE) | (value << OPCODE_SHIFT);
  }

  private get parser(): FrameParser {
    if (this._parser === null) {
      this._parser = new FrameParser(this, {
        isServer: (this.bits & SERVER) !== 0,
        allowRsv1: (this.bits & RSV1_ALLOWED) !== 0,
        maxBufferedChunks: this.limits.maxBufferedChunks,
      });
    }
    return this._parser;
  }

  private get assembler(): MessageAssembler {
    if (this._assembler === null) {
      this._assembler = new MessageAssembler(this, {
        maxPayload: this.payloadLimit,
        maxFragments: this.limits.maxFragments,
        validateUtf8: this.limits.skipUTF8Validation !== true,
      });
    }
    return this._assembler;
  }

  private get output(): OutputQueue {
    if (this._output === null) {
      this._output = new OutputQueue(
        (this.bits & SERVER) !== 0 ? null : new MaskKeySource({ generate: this.generateMask }),
      );
    }
    return this._output;
  }

  // ---- input ----

  /**
   * Feeds bytes received from the peer. A violation is reported through handler.onProtocolError and
   * answered with a Close frame; what throws is only what a handler call threw (the application's). The chunk's memory becomes the
   * protocol's: payloads are unmasked in place and messages may be views of it.
   */
  receive(chunk: Buffer): void {
    const depth = this.bits >>> DEPTH_SHIFT;
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.caught(err, depth);
    }
  }

  /** @internal A handler call starts (see DEPTH_SHIFT). */
  protected enterHandler(): void {
    this.bits += DEPTH_ONE;
  }

  /** @internal A handler call returned. */
  protected leaveHandler(): void {
    this.bits -= DEPTH_ONE;
  }

  /** @internal How many handler calls are in progress. */
  protected get handlerDepth(): number {
    return this.bits >>> DEPTH_SHIFT;
  }

  /**
   * @internal What receive() or resume() caught, with `depth` handler calls in progress when it began:
   * a handler's (the application's) exception is thrown on; the peer's violation fails the connection.
   */
  protected caught(err: unknown, depth: number): void {
    if (this.bits >>> DEPTH_SHIFT !== depth) {
      this.bits = (this.bits & (DEPTH_ONE - 1)) | (depth << DEPTH_SHIFT);
      throw err;
    }
    if (err instanceof WebSocketError) this.fail(err);
    else throw err;
  }

  /**
   * The transport ended (EOF or error). The connection is CLOSED; closeCode is the peer's close code,
   * or 1006 when no Close frame arrived. Returns whether the closing handshake completed.
   */
  receiveEof(): boolean {
    // Through the getter: an EOF before the first byte must stop input as well.
    this.parser.stop();
    this.setState(ReadyState.CLOSED);
    return (this.bits & (CLOSE_RECEIVED | CLOSE_SENT)) === (CLOSE_RECEIVED | CLOSE_SENT);
  }

  /** Stops handing on messages; input received meanwhile is held until resume(). */
  pause(): void {
    this.parser.pause();
  }

  resume(): void {
    const depth = this.bits >>> DEPTH_SHIFT;
    try {
      this.parser.resume();
    } catch (err) {
      this.caught(err, depth);
    }
  }

  get isPaused(): boolean {
    return this._parser?.isPaused ?? false;
  }

  /** Enables or disables RSV1 on incoming messages (permessage-deflate). */
  set allowRsv1(value: boolean) {
    this.bits = value ? this.bits | RSV1_ALLOWED : this.bits & ~RSV1_ALLOWED;
    if (this._parser !== null) this._parser.allowRsv1 = value;
  }

  set maxPayload(value: number) {
    this.payloadLimit = value;
    if (this._assembler !== null) this._assembler.maxPayload = value;
  }

  /** Fails the connection: queues a Close with the error's close code and ignores further input. */
  fail(error: WebSocketError): void {
    if (this.error !== null) return;
    this.error = error;
    this.parser.stop();
    if (!this.closeSent && this.handler.deferClose?.() !== true) {
      this.queueClose(encodeClosePayload(error.closeCode ?? 1002));
    }
    if (this.state === ReadyState.OPEN) this.setState(ReadyState.CLOSING);
    this.handler.onProtocolError(error);
  }

  // FrameHandler, MessageSink: called by the parser and the assembler.

  onDataFrame(opcode: number, fin: boolean, rsv1: boolean, length: number): void {
    this.assembler.onDataFrame(opcode, fin, rsv1, length);
  }

  onData(piece: Buffer, last: boolean, gathered: boolean): void {
    this.assembler.onData(piece, last, gathered);
  }

  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    this.bits += DEPTH_ONE;
    this.handler.onMessage(data, isBinary, compressed);
    this.bits -= DEPTH_ONE;
  }

  onControlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      if ((this.bits & (AUTO_PONG | CLOSE_SENT)) === AUTO_PONG)
        this.output.pushFrame(0x80 | Opcode.Pong, payload, payload.length);
      this.bits += DEPTH_ONE;
      this.handler.onPing(payload);
      this.bits -= DEPTH_ONE;
    } else if (opcode === Opcode.Pong) {
      this.bits += DEPTH_ONE;
      this.handler.onPong(payload);
      this.bits -= DEPTH_ONE;
    } else {
      const { code, reason } = decodeClosePayload(payload, this.limits.skipUTF8Validation !== true);
      this.bits |= CLOSE_RECEIVED;
      this.closeCode = code;
      this.closeReason = reason;
      this.parser.stop();
      if (!this.closeSent && this.handler.deferClose?.() !== true) {
        // Echo the code and reason (RFC 6455 §5.5.1, as ws and browsers do); a Close without a code is
        // answered without one.
        // The payload was checked above (code, and reason unless skipUTF8Validation): a copy of it is
        // the answer.
        this.queueClose(code === 1005 ? EMPTY_BUFFER : Buffer.from(payload));
      }
      this.setState(ReadyState.CLOSED);
      this.bits += DEPTH_ONE;
      this.handler.onCloseFrame(code, reason);
      this.bits -= DEPTH_ONE;
    }
  }

  // ---- output ----

  /**
   * Queues a message (or a part of one, with fin: false). Strings are sent as text, Buffers as binary
   * unless `isBinary` is false. Throws WS_ERR_INVALID_STATE after a Close frame was sent.
   */
  send(data: Buffer | string, isBinary: boolean, options?: SendOptions): void {
    const bits = this.bits;
    if ((bits & CLOSE_SENT) !== 0) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot send: the connection is closing or closed');
    }
    const fin = options?.fin ?? true;
    let opcode: number = isBinary ? Opcode.Binary : Opcode.Text;
    let rsv1 = options?.rsv1 === true;
    if ((bits & SENDING_OPCODE) !== 0) {
      opcode = Opcode.Continuation;
      rsv1 = false;
    }
    // Written only when it changes: a whole message after a whole message leaves it 0.
    if (!fin || (bits & SENDING_OPCODE) !== 0)
      this.sendingOpcode = fin ? 0 : isBinary ? Opcode.Binary : Opcode.Text;
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const rsvBit = rsv1 ? 0x40 : 0;
    if (this.fragmentSize > 0 && length > this.fragmentSize) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      const size = this.fragmentSize;
      for (let start = 0; start < length; start += size) {
        const end = Math.min(start + size, length);
        const last = end === length;
        const first = start === 0;
        const b0 = (last && fin ? 0x80 : 0) | (first ? rsvBit | opcode : Opcode.Continuation);
        this.output.pushFrame(b0, bytes.subarray(start, end), end - start);
      }
      return;
    }
    this.output.pushFrame((fin ? 0x80 : 0) | rsvBit | opcode, data, length);
  }

  /** Queues an already framed message (see frameMessage); for broadcasts framed once. */
  sendFramed(frame: Buffer): void {
    if (this.closeSent) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot send: the connection is closing or closed');
    }
    this.output.pushRaw(frame);
  }

  ping(data: Buffer = EMPTY_BUFFER): void {
    this.control(Opcode.Ping, data);
  }

  pong(data: Buffer = EMPTY_BUFFER): void {
    this.control(Opcode.Pong, data);
  }

  /**
   * Starts (or answers) the closing handshake: queues a Close frame with the code and reason. Throws
   * WS_ERR_INVALID_ARGUMENT for a code that may not be sent or a reason over 123 bytes (a typed array
   * counts its bytes); does nothing when a Close was sent already.
   */
  close(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): void {
    if (this.closeSent) return;
    this.queueClose(encodeClosePayload(code, reason));
    this.setState(this.closeReceived ? ReadyState.CLOSED : ReadyState.CLOSING);
  }

  /** The bytes to write, in order, or null when nothing is queued. */
  takeOutput(): Buffer[] | null {
    return this._output === null ? null : this._output.take();
  }

  /** Bytes queued and not yet taken. */
  get bufferedAmount(): number {
    return this._output === null ? 0 : this._output.bytes;
  }

  get hasOutput(): boolean {
    return this._output !== null && !this._output.isEmpty;
  }

  private control(opcode: number, data: Buffer): void {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw argumentError(
        'The data size must not be greater than 125 bytes',
        'RangeError',
        `a control frame payload of ${data.length} bytes: at most 125 fit`,
      );
    }
    if (this.closeSent) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot send: the connection is closing or closed');
    }
    this.output.pushFrame(0x80 | opcode, data, data.length);
  }

  private queueClose(payload: Buffer): void {
    this.bits |= CLOSE_SENT;
    this.output.pushFrame(0x80 | Opcode.Close, payload, payload.length);
  }
}
