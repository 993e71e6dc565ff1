import { Buffer } from 'node:buffer';
import { type CodedError, createError } from './errors.js';
import { MessageBuffer } from './message-buffer.js';
import { isValidUtf8 } from './utf8-validator.js';

/**
 * The framing of draft-hixie-thewebsocketprotocol-76 (§4.2, §5.3): a text frame is 0x00, UTF-8 bytes,
 * 0xFF; a frame whose type byte has the high bit set carries a length (base 128, high bit meaning
 * "more") and that many bytes; the closing handshake is the frame 0xFF 0x00. No masking, no
 * fragmentation, no control frames. wskit delivers the 0x00 text frames and discards the other frame
 * types, as the draft tells a server to (they were reserved: no browser sent binary frames).
 */

/** What a Hixie76Parser reports. */
export interface Hixie76Sink {
  /** A whole text message (UTF-8 checked, without its 0x00 and 0xFF). */
  onText(data: Buffer): void;
  /** The closing frame 0xFF 0x00 arrived: nothing after it is read. */
  onClosingFrame(): void;
}

export interface Hixie76ParserOptions {
  /** The largest text frame (without its 0x00 and 0xFF) or length-prefixed frame; 0: no limit. */
  maxPayload: number;
  /** Deliver text without checking it is UTF-8 (the skipUTF8Validation option). Default false. */
  skipUTF8Validation?: boolean;
}

/** The closing handshake's frame. */
export const HIXIE76_CLOSING_FRAME: Buffer = Buffer.from([0xff, 0x00]);

const TYPE = 0;
const TEXT = 1;
const SKIP_TEXT = 2;
const LENGTH = 3;
const SKIP = 4;
const STOPPED = 5;

function tooLong(max: number): CodedError {
  return createError(
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    `A hixie-76 frame over maxPayload (${max} bytes): the connection was closed; raise maxPayload if such messages are legitimate`,
    { closeCode: 1009 },
  );
}

/**
 * Reads hixie-76 frames from chunks of any size. Memory is bounded: a text frame's bytes are held
 * (in a MessageBuffer: small pieces copied together, so a trickle of 1-byte reads costs no more than
 * its bytes) up to maxPayload, after which the connection fails
 * with WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, so a peer that never sends 0xFF cannot grow it; a
 * length-prefixed frame is skipped without holding its bytes, but its length counts against
 * maxPayload as well. Throws WebSocketError for a violation; after one, or after the closing frame,
 * it reads nothing more.
 */
export class Hixie76Parser {
  private readonly sink: Hixie76Sink;
  private readonly maxPayload: number;
  private state = TYPE;
  private frameType = 0;
  private readonly text = new MessageBuffer();
  private readonly validate: boolean;
  private held = 0;
  private remaining = 0;
  private lengthBytes = 0;
  private paused = false;
  private queue: Buffer[] | null = null;

  constructor(sink: Hixie76Sink, options: Hixie76ParserOptions) {
    this.sink = sink;
    this.maxPayload = options.maxPayload;
    this.validate = options.skipUTF8Validation !== true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Reads nothing more (a violation, the closing frame, the end of the transport). */
  stop(): void {
    this.state = STOPPED;
    this.text.reset();
    this.queue = null;
  }

  /** Holds every message until resume(): bytes received meanwhile wait, in order. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const queue = this.queue;
    this.queue = null;
    if (queue === null) return;
    for (let i = 0; i < queue.length; i++) {
      if (this.paused) {
        this.hold(queue.slice(i));
        return;
      }
      this.push(queue[i]);
    }
  }

  push(chunk: Buffer): void {
    if (this.state === STOPPED) return;
    if (this.paused) {
      this.hold([chunk]);
      return;
    }
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.state) {
        case TYPE: {
          const type = chunk[pos++];
          this.frameType = type;
          if ((type & 0x80) === 0) {
            this.state = type === 0x00 ? TEXT : SKIP_TEXT;
          } else {
            this.state = LENGTH;
            this.remaining = 0;
            this.lengthBytes = 0;
          }
          break;
        }
        case TEXT:
        case SKIP_TEXT: {
          const stop = chunk.indexOf(0xff, pos);
          const last = stop === -1 ? end : stop;
          const size = last - pos;
          if (this.maxPayload > 0 && this.held + size > this.maxPayload) throw tooLong(this.maxPayload);
          if (this.state === TEXT && size > 0) this.text.append(chunk.subarray(pos, last));
          this.held += size;
          if (stop === -1) return;
          pos = stop + 1;
          const wasText = this.state === TEXT;
          this.state = TYPE;
          this.held = 0;
          if (wasText) {
            this.deliver();
            if (this.state === STOPPED) return;
            if (this.paused) {
              if (pos < end) this.hold([chunk.subarray(pos)]);
              return;
            }
          }
          break;
        }
        case LENGTH: {
          const b = chunk[pos++];
          this.lengthBytes++;
          this.remaining = this.remaining * 128 + (b & 0x7f);
          if (this.maxPayload > 0 && this.remaining > this.maxPayload) throw tooLong(this.maxPayload);
          if (this.lengthBytes > 8) throw tooLong(this.maxPayload);
          if ((b & 0x80) !== 0) break;
          if (this.frameType === 0xff && this.remaining === 0) {
            this.stop();
            this.sink.onClosingFrame();
            return;
          }
          this.state = this.remaining === 0 ? TYPE : SKIP;
          break;
        }
        case SKIP: {
          const take = Math.min(this.remaining, end - pos);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = TYPE;
          break;
        }
        default:
          return;
      }
    }
  }

  private hold(chunks: Buffer[]): void {
    if (this.queue === null) this.queue = chunks;
    else for (const c of chunks) this.queue.push(c);
  }

  private deliver(): void {
    const data = this.text.length === 0 ? Buffer.alloc(0) : this.text.take();
    if (this.validate && !isValidUtf8(data)) {
      throw createError(
        'WS_ERR_INVALID_UTF8',
        'A hixie-76 text frame that is not UTF-8: the connection was closed',
        { closeCode: 1007 },
      );
    }
    this.sink.onText(data);
  }
}

/**
 * A text frame: 0x00, the UTF-8 bytes, 0xFF. Throws WS_ERR_INVALID_ARGUMENT for bytes holding 0xFF
 * (never in UTF-8): they would end the frame early and let the rest be read as other frames.
 */
export function frameHixie76Text(data: Buffer | string): Buffer {
  const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const out = Buffer.allocUnsafe(length + 2);
  out[0] = 0x00;
  if (typeof data === 'string') {
    out.write(data, 1, 'utf8');
  } else {
    if (data.indexOf(0xff) !== -1) {
      throw createError(
        'WS_ERR_INVALID_ARGUMENT',
        'A hixie-76 text message cannot hold the byte 0xFF (it is not UTF-8): send valid UTF-8 text',
      );
    }
    data.copy(out, 1);
  }
  out[length + 1] = 0xff;
  return out;
}
