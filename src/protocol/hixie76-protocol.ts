import { encodeClosePayload } from './close.js';
import { EMPTY_BUFFER, Opcode, ReadyState } from './constants.js';
import { type CodedError, createError, type WebSocketError } from './errors.js';
import {
  frameHixie76Text,
  HIXIE76_CLOSING_FRAME,
  Hixie76Parser,
  type Hixie76Sink,
} from './hixie76-framing.js';
import { Protocol, type ProtocolHandler, type SendOptions } from './protocol.js';

function unsupported(what: string): CodedError {
  return createError(
    'WS_ERR_LEGACY_UNSUPPORTED',
    `${what} on a hixie-76 connection: that protocol has text messages and a close only (isHixie76(ws) tells such connections apart)`,
  );
}

/**
 * The sans-I/O protocol of a hixie-76 connection (server side), with Protocol's surface so that the
 * same Connection, Outbox and WebSocket drive it: text messages in and out, the 0xFF 0x00 closing
 * handshake (reported as a Close with no code, 1005), failure by that same frame. A subclass rather
 * than a branch in Protocol: RFC 6455 connections run Protocol's methods unchanged, and their call
 * sites only ever see Protocol objects unless a process also serves hixie-76.
 */
export class Hixie76Protocol extends Protocol implements Hixie76Sink {
  private readonly sink: ProtocolHandler;
  private readonly reader: Hixie76Parser;
  private queued: Buffer[] | null = null;
  private queuedBytes = 0;

  constructor(handler: ProtocolHandler, options: { maxPayload: number; skipUTF8Validation?: boolean }) {
    super(handler, { role: 'server', maxPayload: options.maxPayload, autoPong: false });
    this.sink = handler;
    this.reader = new Hixie76Parser(this, options);
  }

  // ---- input ----

  override receive(chunk: Buffer): void {
    const depth = this.handlerDepth;
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.caught(err, depth);
    }
  }

  override receiveEof(): boolean {
    this.reader.stop();
    this.setState(ReadyState.CLOSED);
    return this.closeReceived && this.closeSent;
  }

  override pause(): void {
    this.reader.pause();
  }

  override resume(): void {
    const depth = this.handlerDepth;
    try {
      this.reader.resume();
    } catch (err) {
      this.caught(err, depth);
    }
  }

  override get isPaused(): boolean {
    return this.reader.isPaused;
  }

  override fail(error: WebSocketError): void {
    if (this.error !== null) return;
    this.error = error;
    this.reader.stop();
    if (!this.closeSent && this.sink.deferClose?.() !== true) this.queueClosingFrame();
    if (this.state === ReadyState.OPEN) this.setState(ReadyState.CLOSING);
    this.sink.onProtocolError(error);
  }

  /** @internal Hixie76Sink */
  onText(data: Buffer): void {
    this.enterHandler();
    this.sink.onMessage(data, false, false);
    this.leaveHandler();
  }

  /** @internal Hixie76Sink: the peer's 0xFF 0x00, answered with ours unless we sent it. */
  onClosingFrame(): void {
    this.markCloseReceived();
    this.closeCode = 1005;
    this.closeReason = EMPTY_BUFFER;
    if (!this.closeSent && this.sink.deferClose?.() !== true) this.queueClosingFrame();
    this.setState(ReadyState.CLOSED);
    this.enterHandler();
    this.sink.onCloseFrame(1005, EMPTY_BUFFER);
    this.leaveHandler();
  }

  // ---- output ----

  override send(data: Buffer | string, isBinary: boolean, options?: SendOptions): void {
    if (this.closeSent) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot send: the connection is closing or closed');
    }
    if (isBinary) throw unsupported('A binary message');
    if (options?.fin === false) throw unsupported('A message in parts (fin: false)');
    this.push(frameHixie76Text(data));
  }

  /**
   * A message framed once for many connections (a publish, a broadcast) is an RFC 6455 frame: its
   * text is sent as a hixie-76 text frame; binary and compressed ones are skipped, since this peer
   * cannot receive them.
   */
  override sendFramed(frame: Buffer): void {
    if (this.closeSent) {
      throw createError('WS_ERR_INVALID_STATE', 'Cannot send: the connection is closing or closed');
    }
    const text = rfc6455Text(frame);
    if (text !== null) this.push(frameHixie76Text(text));
  }

  /** Throws WS_ERR_LEGACY_UNSUPPORTED: a Blob is read after send() returned, too late to refuse it. */
  refuseBlob(): never {
    throw unsupported('A Blob');
  }

  override ping(): void {
    throw unsupported('A ping');
  }

  override pong(): void {
    throw unsupported('A pong');
  }

  /**
   * Starts or answers the closing handshake: 0xFF 0x00. The code and reason are checked as for RFC
   * 6455 (the same mistakes throw), then dropped: hixie-76 has neither.
   */
  override close(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): void {
    if (this.closeSent) return;
    encodeClosePayload(code, reason);
    this.queueClosingFrame();
    this.setState(this.closeReceived ? ReadyState.CLOSED : ReadyState.CLOSING);
  }

  override takeOutput(): Buffer[] | null {
    const out = this.queued;
    this.queued = null;
    this.queuedBytes = 0;
    return out;
  }

  override get bufferedAmount(): number {
    return this.queuedBytes;
  }

  override get hasOutput(): boolean {
    return this.queued !== null;
  }

  private queueClosingFrame(): void {
    this.markCloseSent();
    this.push(HIXIE76_CLOSING_FRAME);
  }

  private push(bytes: Buffer): void {
    if (this.queued === null) this.queued = [bytes];
    else this.queued.push(bytes);
    this.queuedBytes += bytes.length;
  }
}

/** The payload of an unmasked, final, uncompressed RFC 6455 text frame; null for any other frame. */
export function rfc6455Text(frame: Buffer): Buffer | null {
  if (frame.length < 2 || frame[0] !== (0x80 | Opcode.Text) || (frame[1] & 0x80) !== 0) return null;
  const length7 = frame[1] & 0x7f;
  const start = length7 < 126 ? 2 : length7 === 126 ? 4 : 10;
  if (frame.length < start) return null;
  return frame.subarray(start);
}
