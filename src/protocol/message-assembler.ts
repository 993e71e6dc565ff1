import { Buffer, isUtf8 } from 'node:buffer';
import { EMPTY_BUFFER, Opcode } from './constants.js';
import { createError, protocolError, type WebSocketError } from './errors.js';
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
  /** The most frames a message may arrive in (0 or undefined: no limit); more fail with 1008. */
  maxFragments?: number;
}

function invalidUtf8(): WebSocketError {
  return createError('WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', { closeCode: 1007 });
}

/**
 * Joins data frames into messages (RFC 6455 §5.4): enforces the fragmentation rules, the message size
 * limit before the excess is buffered, and UTF-8 validity of text as the bytes arrive.
 */
export class MessageAssembler implements Pick<FrameHandler, 'onDataFrame' | 'onData'> {
  private readonly sink: MessageSink;
  /** Created for the first message that arrives in more than one piece. */
  private buffer: MessageBuffer | null = null;
  /**
   * The latest pieces of the message not yet in `buffer`, while each one continues the previous one
   * in memory (the pieces of a frame the parser gathered): joined by widening a view, not by copying.
   */
  private run: Buffer | null = null;
  private runLength = 0;
  private utf8: Utf8Validator | null = null;
  maxPayload: number;
  private readonly validateUtf8: boolean;
  private readonly maxFragments: number;
  /** Frames of the current message so far. */
  private fragments = 0;

  private inMessage = false;
  private opcode = 0;
  private fin = false;
  private compressed = false;

  constructor(sink: MessageSink, options: MessageAssemblerOptions) {
    this.sink = sink;
    this.maxPayload = options.maxPayload;
    this.validateUtf8 = options.validateUtf8 ?? true;
    this.maxFragments = options.maxFragments ?? 0;
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
      this.fragments = 0;
    }
    if (this.maxFragments > 0 && ++this.fragments > this.maxFragments) {
      throw createError(
        'WS_ERR_TOO_MANY_BUFFERED_PARTS',
        `Message in more than maxFragments (${this.maxFragments}) frames`,
        { closeCode: 1008 },
      );
    }
    this.fin = fin;
    const buffered = (this.buffer === null ? 0 : this.buffer.length) + this.runLength;
    if (this.maxPayload > 0 && buffered + length > this.maxPayload) {
      throw createError(
        'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
        `Message larger than maxPayload (${this.maxPayload} bytes)`,
        { closeCode: 1009 },
      );
    }
  }

  /**
   * A piece of the current frame. `gathered` (see FrameHandler.onData) says that it is a view of the
   * buffer the parser gathers the frame into: such pieces are joined by widening a view of that buffer,
   * which the parser holds until the frame ends anyway, and the frame's payload is not copied again.
   */
  onData(piece: Buffer, last: boolean, gathered = false): void {
    const text = this.opcode === Opcode.Text && !this.compressed && this.validateUtf8;
    if (last && this.fin && this.run === null && (this.buffer === null || this.buffer.length === 0)) {
      // The whole message arrived as one piece: no copy, one native validation.
      if (text && !((this.utf8 === null || this.utf8.complete) && isUtf8(piece))) throw invalidUtf8();
      this.end();
      this.sink.onMessage(piece, this.opcode === Opcode.Binary, this.compressed);
      return;
    }
    const utf8 = text ? (this.utf8 ??= new Utf8Validator()) : null;
    if (utf8 !== null && piece.length > 0 && !utf8.push(piece)) throw invalidUtf8();
    if (gathered) {
      this.addToRun(piece);
    } else {
      this.flushRun();
      (this.buffer ??= new MessageBuffer()).append(piece);
    }
    if (last && this.fin) {
      if (utf8 !== null && !utf8.complete) throw invalidUtf8();
      let data: Buffer;
      if (this.buffer === null || this.buffer.length === 0) {
        data = this.takeRun() ?? EMPTY_BUFFER;
      } else {
        this.flushRun();
        data = this.buffer.take();
      }
      const isBinary = this.opcode === Opcode.Binary;
      const compressed = this.compressed;
      this.end();
      this.sink.onMessage(data, isBinary, compressed);
    }
  }

  /** Widens the run when `piece` continues it in memory; otherwise moves the run to the buffer first. */
  private addToRun(piece: Buffer): void {
    const run = this.run;
    if (run !== null && piece.buffer === run.buffer && piece.byteOffset === run.byteOffset + this.runLength) {
      this.runLength += piece.length;
      return;
    }
    this.flushRun();
    if (piece.length === 0) return;
    this.run = piece;
    this.runLength = piece.length;
  }

  /** The run as one Buffer (null when empty); the run is then empty. */
  private takeRun(): Buffer | null {
    const run = this.run;
    if (run === null) return null;
    const length = this.runLength;
    this.run = null;
    this.runLength = 0;
    return length === run.length ? run : Buffer.from(run.buffer, run.byteOffset, length);
  }

  private flushRun(): void {
    const run = this.takeRun();
    if (run !== null) (this.buffer ??= new MessageBuffer()).append(run);
  }

  private end(): void {
    this.inMessage = false;
    this.run = null;
    this.runLength = 0;
    this.utf8?.reset();
  }
}
