import { Buffer } from 'node:buffer';
import { EMPTY_BUFFER, MAX_CONTROL_PAYLOAD } from './constants.js';
import { createError, protocolError } from './errors.js';
import { Masker } from './mask.js';

/** The prefix of ws's frame errors: wskit's say the same (same codes, same text). */
const INVALID = 'Invalid WebSocket frame: ';

/** Receives what the parser finds. Payloads arrive unmasked. */
export interface FrameHandler {
  /** The header of a data frame (opcode 0, 1 or 2) was read; its payload follows through onData. */
  onDataFrame(opcode: number, fin: boolean, rsv1: boolean, length: number): void;
  /**
   * A piece of the current data frame's payload, as it arrives (never more than the frame holds).
   * `last` is true for the piece that ends the frame; an empty frame gets one empty last piece.
   * The piece may be a view of the input chunk: keep it only if the chunk is yours to keep.
   * `gathered` is true when the frame spans chunks and is gathered into one buffer (see FrameParser):
   * its pieces are then consecutive views of that buffer, and joined they are a view of the whole
   * payload; the parser holds the buffer until the frame ends.
   */
  onData(piece: Buffer, last: boolean, gathered: boolean): void;
  /** A whole control frame (opcode 8, 9 or 10), its payload at most 125 bytes. */
  onControlFrame(opcode: number, payload: Buffer): void;
}

export interface FrameParserOptions {
  /** A server requires masked frames (client-to-server); a client refuses them. */
  isServer: boolean;
  /** Whether RSV1 may be set on the first frame of a data message (permessage-deflate negotiated). */
  allowRsv1?: boolean;
  /** The most chunks a frame may arrive in (0 or undefined: no limit); more fail with 1008. */
  maxBufferedChunks?: number;
}

const HEADER = 0;
const PAYLOAD = 1;
const MAX_HEADER = 14;
/**
 * A data frame that spans chunks is gathered into a buffer allocated for its whole payload when the
 * payload is at most this long, or at most twice what has arrived of it: a header that declares a
 * large length reserves no more memory than that before its bytes come.
 */
const GATHER_UP_FRONT = 64 * 1024;

/**
 * An incremental RFC 6455 frame parser: feed it chunks of any size, one byte at a time included; it
 * checks every header rule of §5 and throws a WebSocketError (with the close code to fail the
 * connection with) on a violation. A payload that lies within one chunk is unmasked in place and
 * handed on without copying. A data frame that spans chunks is gathered, unmasked on the way, into one
 * buffer for its whole payload, so that the receiver need not join it: into the chunk where it begins
 * when the bytes of that chunk before it (its header, frames already read and not handed on) leave room
 * for the rest of it, the payload then being moved towards the start; otherwise into a new buffer,
 * within the bound of GATHER_UP_FRONT; otherwise (a large frame, little of it here) it is handed on in
 * place, piece by piece. Control payloads split across chunks are gathered (at most 125 bytes).
 */
export class FrameParser {
  private readonly isServer: boolean;
  allowRsv1: boolean;
  private readonly handler: FrameHandler;
  /** Created with the first masked payload: an idle connection holds none. */
  private masker: Masker | null = null;

  private state = HEADER;
  /** Header bytes gathered when a header is split across chunks. */
  private header: Buffer | null = null;
  private headerLength = 0;

  // The frame being read.
  private opcode = 0;
  private masked = false;
  private maskKey: Buffer | null = null;
  private remaining = 0;
  private consumed = 0;
  private control: Buffer | null = null;
  private controlLength = 0;
  /** Where the current data frame's payload is gathered (see the class comment), or null. */
  private gather: Buffer | null = null;
  /**
   * In the chunk being parsed, the end of the last bytes handed on (which the handler may keep):
   * bytes before a payload and from here on are free to overwrite.
   */
  private handedOn = 0;

  /** Set by stop(): the rest of the input is ignored. */
  private stopped = false;
  /** Set by pause(): input is kept until resume(). */
  private paused = false;
  private backlog: Buffer[] = [];
  /**
   * Where the backlog starts: resume() takes chunks from here rather than shifting the array, which
   * costs time in proportion to its length (a backlog of n chunks would take n^2).
   */
  private backlogStart = 0;
  /** True while push() is parsing a chunk. */
  private parsing = false;
  private readonly maxChunks: number;
  /** Chunks the frame being read has arrived in so far (counted only with maxBufferedChunks). */
  private frameChunks = 0;

  constructor(handler: FrameHandler, options: FrameParserOptions) {
    this.handler = handler;
    this.isServer = options.isServer;
    this.allowRsv1 = options.allowRsv1 ?? false;
    this.maxChunks = options.maxBufferedChunks ?? 0;
  }

  /** Whether a frame has been started and not finished (bytes of it are still expected). */
  get midFrame(): boolean {
    return this.state === PAYLOAD || this.headerLength > 0;
  }

  /** Ignore everything from now on (after a Close frame, or once the connection failed). */
  stop(): void {
    this.stopped = true;
    this.backlog = [];
    this.backlogStart = 0;
    this.gather = null;
    this.masker?.release();
  }

  /** Stops handing on frames; input fed meanwhile is kept for resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Resumed from a handler during push(): that push carries on with its chunk, which comes before
    // anything in the backlog (and the resume() loop below it, if any, then drains the backlog).
    if (this.parsing) return;
    while (this.backlogStart < this.backlog.length && !this.paused && !this.stopped) {
      const chunk = this.backlog[this.backlogStart];
      this.backlog[this.backlogStart++] = EMPTY_BUFFER;
      this.push(chunk);
    }
    if (this.backlogStart > 0 && this.backlogStart === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogStart = 0;
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Parses a chunk; throws a WebSocketError on a protocol violation. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.paused) {
      this.backlog.push(chunk);
      return;
    }
    if (this.maxChunks > 0) this.countChunk();
    this.parsing = true;
    try {
      this.parse(chunk);
    } finally {
      this.parsing = false;
      // The masker's cached view would otherwise keep this chunk's memory alive while the connection idles.
      this.masker?.release();
    }
  }

  /** ws's maxBufferedChunks: a frame arriving in more chunks than that fails the connection. */
  private countChunk(): void {
    if (!this.midFrame) this.frameChunks = 0;
    if (this.frameChunks >= this.maxChunks) {
      throw createError(
        'WS_ERR_TOO_MANY_BUFFERED_PARTS',
        `Frame in more than maxBufferedChunks (${this.maxChunks}) chunks`,
        { closeCode: 1008 },
      );
    }
    this.frameChunks++;
  }

  private parse(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    this.handedOn = 0;
    while (pos < length) {
      if (this.stopped) return;
      if (this.paused) {
        // The rest of this chunk comes before the chunks already waiting (when resume() is feeding them:
        // into the slot this chunk was taken from; otherwise the backlog is empty).
        if (this.backlogStart > 0) this.backlog[--this.backlogStart] = chunk.subarray(pos);
        else this.backlog.unshift(chunk.subarray(pos));
        return;
      }
      if (this.state === PAYLOAD) {
        pos = this.payload(chunk, pos);
        continue;
      }
      if (this.headerLength === 0) {
        const size = headerSize(chunk, pos, length);
        if (size > 0 && length - pos >= size) {
          this.parseHeader(chunk, pos);
          pos += size;
          if (this.remaining === 0) this.emitEmpty();
          continue;
        }
      }
      // Gather a header split across chunks.
      if (this.header === null) this.header = Buffer.allocUnsafe(MAX_HEADER);
      while (pos < length) {
        this.header[this.headerLength++] = chunk[pos++];
        const size = headerSize(this.header, 0, this.headerLength);
        if (size > 0 && this.headerLength === size) {
          this.headerLength = 0;
          this.parseHeader(this.header, 0);
          if (this.remaining === 0) this.emitEmpty();
          break;
        }
      }
    }
  }

  private parseHeader(buf: Buffer, pos: number): void {
    const b0 = buf[pos];
    const b1 = buf[pos + 1];
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    if ((b0 & 0x30) !== 0) {
      throw protocolError('WS_ERR_UNEXPECTED_RSV_2_3', `${INVALID}RSV2 and RSV3 must be clear`);
    }
    const control = opcode >= 8;
    if (control) {
      if (opcode > 0xa) throw protocolError('WS_ERR_INVALID_OPCODE', `${INVALID}invalid opcode ${opcode}`);
      if (!fin) throw protocolError('WS_ERR_EXPECTED_FIN', `${INVALID}FIN must be set`);
      if (rsv1) throw protocolError('WS_ERR_UNEXPECTED_RSV_1', `${INVALID}RSV1 must be clear`);
    } else {
      if (opcode > 2) throw protocolError('WS_ERR_INVALID_OPCODE', `${INVALID}invalid opcode ${opcode}`);
      if (rsv1 && (!this.allowRsv1 || opcode === 0)) {
        throw protocolError('WS_ERR_UNEXPECTED_RSV_1', `${INVALID}RSV1 must be clear`);
      }
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.isServer) {
      throw this.isServer
        ? protocolError('WS_ERR_EXPECTED_MASK', `${INVALID}MASK must be set`)
        : protocolError('WS_ERR_UNEXPECTED_MASK', `${INVALID}MASK must be clear`);
    }
    let length = b1 & 0x7f;
    let p = pos + 2;
    if (length === 126) {
      length = (buf[p] << 8) | buf[p + 1];
      p += 2;
    } else if (length === 127) {
      const hi = buf.readUInt32BE(p);
      if (hi > 0x1fffff) {
        throw hi >= 0x80000000
          ? protocolError(
              'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
              'The most significant bit of a 64-bit length must be 0',
            )
          : createError('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 'Frame length over 2^53 - 1 bytes', {
              closeCode: 1009,
            });
      }
      length = hi * 0x100000000 + buf.readUInt32BE(p + 4);
      p += 8;
    }
    if (control && length > MAX_CONTROL_PAYLOAD) {
      throw protocolError(
        'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
        `${INVALID}invalid payload length ${length}`,
      );
    }
    if (masked) {
      const key = (this.maskKey ??= Buffer.allocUnsafe(4));
      key[0] = buf[p];
      key[1] = buf[p + 1];
      key[2] = buf[p + 2];
      key[3] = buf[p + 3];
    }
    this.opcode = opcode;
    this.masked = masked;
    this.remaining = length;
    this.consumed = 0;
    this.state = PAYLOAD;
    if (!control) this.handler.onDataFrame(opcode, fin, rsv1, length);
    else this.controlLength = 0;
  }

  private emitEmpty(): void {
    this.state = HEADER;
    if (this.opcode >= 8) this.handler.onControlFrame(this.opcode, EMPTY_BUFFER);
    else this.handler.onData(EMPTY_BUFFER, true, false);
  }

  private payload(chunk: Buffer, pos: number): number {
    const available = chunk.length - pos;
    const n = Math.min(available, this.remaining);
    const end = pos + n;
    if (this.opcode < 8 && (this.gather !== null || n < this.remaining)) {
      this.gatherPiece(chunk, pos, end);
      return end;
    }
    if (this.masked) (this.masker ??= new Masker()).apply(chunk, pos, end, this.maskKey!, 0, this.consumed);
    this.remaining -= n;
    this.consumed += n;
    const last = this.remaining === 0;
    if (last) this.state = HEADER;
    if (this.opcode >= 8) {
      if (last && this.controlLength === 0) {
        this.handedOn = end;
        this.handler.onControlFrame(this.opcode, chunk.subarray(pos, end));
      } else {
        if (this.control === null) this.control = Buffer.allocUnsafe(MAX_CONTROL_PAYLOAD);
        chunk.copy(this.control, this.controlLength, pos, end);
        this.controlLength += n;
        if (last)
          this.handler.onControlFrame(this.opcode, Buffer.from(this.control.subarray(0, this.controlLength)));
      }
    } else {
      this.handedOn = end;
      this.handler.onData(pos === 0 && end === chunk.length ? chunk : chunk.subarray(pos, end), last, false);
    }
    return end;
  }

  /**
   * A piece `chunk[pos, end)` of a data frame that spans chunks: into the frame's gather buffer, chosen
   * with the frame's first piece, or handed on in place when the frame is not gathered.
   */
  private gatherPiece(chunk: Buffer, pos: number, end: number): void {
    const n = end - pos;
    const at = this.consumed;
    let gather = this.gather;
    if (gather === null && at === 0) {
      const length = this.remaining;
      const rest = length - n;
      if (pos - this.handedOn >= rest) {
        // The room before the payload takes the rest of it: the payload moves towards the start, and
        // the frame ends where this chunk ends.
        gather = chunk.subarray(pos - rest, end);
      } else if (length <= GATHER_UP_FRONT || length <= 2 * n) {
        gather = Buffer.allocUnsafe(length);
      }
      this.gather = gather;
    }
    this.remaining -= n;
    this.consumed += n;
    const last = this.remaining === 0;
    if (last) {
      this.state = HEADER;
      this.gather = null;
    }
    let piece: Buffer;
    if (gather === null) {
      if (this.masked) (this.masker ??= new Masker()).apply(chunk, pos, end, this.maskKey!, 0, at);
      piece = pos === 0 && end === chunk.length ? chunk : chunk.subarray(pos, end);
      this.handedOn = end;
    } else {
      if (this.masked)
        (this.masker ??= new Masker()).applyTo(chunk, pos, end, gather, at, this.maskKey!, 0, at);
      else gather.set(chunk.subarray(pos, end), at);
      piece = at === 0 && last ? gather : gather.subarray(at, at + n);
      if (gather.buffer === chunk.buffer) this.handedOn = end;
    }
    this.handler.onData(piece, last, gather !== null);
  }
}

/** The size of the header starting at `pos`, or 0 when too few bytes are there to tell. */
function headerSize(buf: Buffer, pos: number, end: number): number {
  if (end - pos < 2) return 0;
  const b1 = buf[pos + 1];
  const len = b1 & 0x7f;
  const mask = (b1 & 0x80) !== 0 ? 4 : 0;
  return (len === 126 ? 4 : len === 127 ? 10 : 2) + mask;
}
