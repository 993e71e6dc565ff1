import { isUtf8 } from 'node:buffer';
import { Opcode } from './constants.js';
import { protocolError, WebSocketError } from './errors.js';
import type { FrameHandler } from './frame-parser.js';
import { MessageBuffer } from './message-buffer.js';
import { Utf8Validator } from './utf8-validator.js';

/** Where whole messages go. */
export interface MessageSink {
  /** A whole message. Text arrives as its validated UTF-8 bytes. `compressed` is RSV1 of its first frame. */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void;
}

export interface MessageAssemblerOptions {
  /** The largest message accepted, in bytes; 0 for no limit. */
  maxPayload: number;
  /** Whether to validate text as UTF-8 (compressed messages are validated after inflating, by the caller). */
  validateUtf8?: boolean;
}

function invalidUtf8(): WebSocketError {
  return new WebSocketError('WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', { closeCode: 1007 });
}

/**
 * Joins data frames into messages (RFC 6455 §5.4): enforces the fragmentation rules, the message size
 * limit before the excess is buffered, and UTF-8 validity of text as the bytes arrive.
 */
export class MessageAssembler implements Pick<FrameHandler, 'onDataFrame' | 'onData'> {
  private readonly sink: MessageSink;
  /** Created for the first message that arrives in more than one piece. */
  private buffer: MessageBuffer | null = null;
  private utf8: Utf8Validator | null = null;
  maxPayload: number;
  private readonly validateUtf8: boolean;

  private inMessage = false;
  private opcode = 0;
  private fin = false;
  private compressed = false;

  constructor(sink: MessageSink, options: MessageAssemblerOptions) {
    this.sink = sink;
    this.maxPayload = options.maxPayload;
    this.validateUtf8 = options.validateUtf8 ?? true;
  }

  /** Whether a fragmented message has started and not ended. */
  get midMessage(): boolean {
    return this.inMessage;
  }

  onDataFrame(opcode: number, fin: boolean, rsv1: boolean, length: number): void {
    if (opcode === Opcode.Continuation) {
      if (!this.inMessage) {
        throw protocolError(
          'WS_ERR_UNEXPECTED_CONTINUATION',
          'Continuation frame with no message to continue',
        );
      }
    } else {
      if (this.inMessage) {
        throw protocolError(
          'WS_ERR_EXPECTED_CONTINUATION',
          'New data frame inside a fragmented message: a continuation frame was expected',
        );
      }
      this.inMessage = true;
      this.opcode = opcode;
      this.compressed = rsv1;
    }
    this.fin = fin;
    const buffered = this.buffer === null ? 0 : this.buffer.length;
    if (this.maxPayload > 0 && buffered + length > this.maxPayload) {
      throw new WebSocketError(
        'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
        `Message larger than maxPayload (${this.maxPayload} bytes)`,
        { closeCode: 1009 },
      );
    }
  }

  onData(piece: Buffer, last: boolean): void {
    const text = this.opcode === Opcode.Text && !this.compressed && this.validateUtf8;
    if (last && this.fin && (this.buffer === null || this.buffer.length === 0)) {
      // The whole message arrived as one piece: no copy, one native validation.
      if (text && !((this.utf8 === null || this.utf8.complete) && isUtf8(piece))) throw invalidUtf8();
      this.end();
      this.sink.onMessage(piece, this.opcode === Opcode.Binary, this.compressed);
      return;
    }
    const utf8 = text ? (this.utf8 ??= new Utf8Validator()) : null;
    if (utf8 !== null && piece.length > 0 && !utf8.push(piece)) throw invalidUtf8();
    const buffer = (this.buffer ??= new MessageBuffer());
    buffer.append(piece);
    if (last && this.fin) {
      if (utf8 !== null && !utf8.complete) throw invalidUtf8();
      const data = buffer.take();
      const isBinary = this.opcode === Opcode.Binary;
      const compressed = this.compressed;
      this.end();
      this.sink.onMessage(data, isBinary, compressed);
    }
  }

  private end(): void {
    this.inMessage = false;
    this.utf8?.reset();
  }
}
