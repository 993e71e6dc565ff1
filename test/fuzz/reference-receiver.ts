// An independent model of what a Protocol reports for a byte stream, written from RFC 6455 §5-7 and
// docs/errors.md (not from src/protocol): it reads the whole stream at once, byte by byte where that
// is simplest, and says which events must come out and which frames must be queued in answer. The
// fuzz targets compare the real core (fed in any chunking) against it.

export type FuzzEvent =
  | { kind: 'message'; data: Buffer; binary: boolean; compressed: boolean }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: Buffer }
  | { kind: 'error'; code: string; closeCode: number | undefined };

/** A frame the receiver must queue in answer: a Pong, or the Close (echo or failure). */
export interface AnswerFrame {
  opcode: number;
  payload: Buffer;
}

export interface ReferenceOptions {
  role: 'server' | 'client';
  /** 0 for no limit. */
  maxPayload: number;
  allowRsv1: boolean;
  autoPong: boolean;
  /** deferClose() answers true: the protocol queues no Close of its own. */
  deferClose: boolean;
  /**
   * Inflates a compressed message (the node layer's permessage-deflate, for the server target): its
   * bytes, or an error event. Without it compressed messages are reported as they are.
   */
  inflate?: (data: Buffer, binary: boolean) => Buffer | FuzzEvent;
}

export interface ReferenceResult {
  events: FuzzEvent[];
  answers: AnswerFrame[];
  /** Whether the stream ended inside a frame (or header) that was not failed. */
  truncated: boolean;
}

/** The close codes a Close frame may carry (RFC 6455 §7.4, as docs/protocol.md lists them). */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A fail-fast UTF-8 checker (RFC 3629 §4 table), one byte at a time. */
export class Utf8Model {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  get complete(): boolean {
    return this.need === 0;
  }

  /** False from the first byte that no valid continuation of the text so far can have. */
  byte(b: number): boolean {
    if (this.need > 0) {
      if (b < this.lo || b > this.hi) return false;
      this.lo = 0x80;
      this.hi = 0xbf;
      this.need--;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) this.need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      if (b === 0xed) this.hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      if (b === 0xf4) this.hi = 0x8f;
    } else return false;
    return true;
  }

  bytes(buf: Uint8Array): boolean {
    for (const b of buf) if (!this.byte(b)) return false;
    return true;
  }
}

export function isUtf8Model(buf: Uint8Array): boolean {
  const m = new Utf8Model();
  return m.bytes(buf) && m.complete;
}

function encodeClose(code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(2 + reason.length);
  out.writeUInt16BE(code, 0);
  reason.copy(out, 2);
  return out;
}

/** What a Protocol with `options` must report for `input` (which is left untouched). */
export function referenceReceive(input: Buffer, options: ReferenceOptions): ReferenceResult {
  const events: FuzzEvent[] = [];
  const answers: AnswerFrame[] = [];
  let closeSent = false;
  const fail = (code: string, closeCode: number): ReferenceResult => {
    events.push({ kind: 'error', code, closeCode });
    if (!closeSent && !options.deferClose) answers.push({ opcode: 8, payload: encodeClose(closeCode) });
    return { events, answers, truncated: false };
  };
  // The message being assembled.
  let inMessage = false;
  let messageOpcode = 0;
  let compressed = false;
  let parts: Buffer[] = [];
  let received = 0;
  let utf8 = new Utf8Model();

  let pos = 0;
  for (;;) {
    if (input.length - pos < 2) return { events, answers, truncated: pos < input.length };
    const b0 = input[pos];
    const b1 = input[pos + 1];
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const headerSize = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (input.length - pos < headerSize) return { events, answers, truncated: true };
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const control = opcode >= 8;
    if ((b0 & 0x30) !== 0) return fail('WS_ERR_UNEXPECTED_RSV_2_3', 1002);
    if (control) {
      if (opcode > 10) return fail('WS_ERR_INVALID_OPCODE', 1002);
      if (!fin) return fail('WS_ERR_EXPECTED_FIN', 1002);
      if (rsv1) return fail('WS_ERR_UNEXPECTED_RSV_1', 1002);
    } else {
      if (opcode > 2) return fail('WS_ERR_INVALID_OPCODE', 1002);
      if (rsv1 && (!options.allowRsv1 || opcode === 0)) return fail('WS_ERR_UNEXPECTED_RSV_1', 1002);
    }
    if (masked !== (options.role === 'server')) {
      return fail(options.role === 'server' ? 'WS_ERR_EXPECTED_MASK' : 'WS_ERR_UNEXPECTED_MASK', 1002);
    }
    let length = len7;
    let p = pos + 2;
    if (len7 === 126) {
      length = input.readUInt16BE(p);
      p += 2;
    } else if (len7 === 127) {
      const big = input.readBigUInt64BE(p);
      if (big >= 1n << 63n) return fail('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return fail('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009);
      length = Number(big);
      p += 8;
    }
    if (control && length > 125) return fail('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002);
    const key = masked ? input.subarray(p, p + 4) : null;
    p += masked ? 4 : 0;
    if (!control) {
      if (opcode === 0 && !inMessage) return fail('WS_ERR_UNEXPECTED_CONTINUATION', 1002);
      if (opcode !== 0) {
        if (inMessage) return fail('WS_ERR_EXPECTED_CONTINUATION', 1002);
        inMessage = true;
        messageOpcode = opcode;
        compressed = rsv1;
      }
      if (options.maxPayload > 0 && received + length > options.maxPayload) {
        return fail('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
      }
    }
    const available = Math.min(length, input.length - p);
    const payload = Buffer.from(input.subarray(p, p + available));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    if (!control) {
      const text = messageOpcode === 1 && !compressed;
      if (text && !utf8.bytes(payload)) return fail('WS_ERR_INVALID_UTF8', 1007);
      if (available < length) return { events, answers, truncated: true };
      parts.push(payload);
      received += length;
      if (fin) {
        if (text && !utf8.complete) return fail('WS_ERR_INVALID_UTF8', 1007);
        let data: Buffer = Buffer.concat(parts);
        const binary = messageOpcode === 2;
        if (compressed && options.inflate !== undefined) {
          const inflated = options.inflate(data, binary);
          if (!Buffer.isBuffer(inflated)) {
            events.push(inflated);
            if (inflated.kind === 'error' && !closeSent && !options.deferClose) {
              answers.push({ opcode: 8, payload: encodeClose(inflated.closeCode ?? 1002) });
            }
            return { events, answers, truncated: false };
          }
          data = inflated;
        }
        events.push({
          kind: 'message',
          data,
          binary,
          compressed: compressed && options.inflate === undefined,
        });
        inMessage = false;
        parts = [];
        received = 0;
        utf8 = new Utf8Model();
      }
    } else {
      if (available < length) return { events, answers, truncated: true };
      if (opcode === 9) {
        if (options.autoPong && !closeSent) answers.push({ opcode: 10, payload });
        events.push({ kind: 'ping', data: payload });
      } else if (opcode === 10) {
        events.push({ kind: 'pong', data: payload });
      } else {
        if (length === 1) return fail('WS_ERR_INVALID_CLOSE_PAYLOAD', 1002);
        const code = length === 0 ? 1005 : payload.readUInt16BE(0);
        if (length > 0 && !validCloseCode(code)) return fail('WS_ERR_INVALID_CLOSE_CODE', 1002);
        const reason = payload.subarray(length === 0 ? 0 : 2);
        if (!isUtf8Model(reason)) return fail('WS_ERR_INVALID_UTF8', 1007);
        if (!closeSent && !options.deferClose) {
          answers.push({ opcode: 8, payload: code === 1005 ? Buffer.alloc(0) : encodeClose(code, reason) });
        }
        closeSent = true;
        events.push({ kind: 'close', code, reason });
        return { events, answers, truncated: false };
      }
    }
    pos = p + length;
  }
}

/** A one-line description of an event, for failure reports. */
export function describeEvent(e: FuzzEvent): string {
  const hex = (b: Buffer) =>
    b.length > 24 ? `${b.subarray(0, 24).toString('hex')}...(${b.length} B)` : b.toString('hex');
  switch (e.kind) {
    case 'message':
      return `message ${e.binary ? 'binary' : 'text'}${e.compressed ? ' compressed' : ''} ${hex(e.data)}`;
    case 'ping':
    case 'pong':
      return `${e.kind} ${hex(e.data)}`;
    case 'close':
      return `close ${e.code} ${hex(e.reason)}`;
    case 'error':
      return `error ${e.code} ${e.closeCode}`;
  }
}

export function sameEvent(a: FuzzEvent, b: FuzzEvent): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'message': {
      const o = b as typeof a;
      return a.binary === o.binary && a.compressed === o.compressed && a.data.equals(o.data);
    }
    case 'ping':
    case 'pong':
      return a.data.equals((b as typeof a).data);
    case 'close': {
      const o = b as typeof a;
      return a.code === o.code && a.reason.equals(o.reason);
    }
    case 'error': {
      const o = b as typeof a;
      return a.code === o.code && a.closeCode === o.closeCode;
    }
  }
}

/** Null when the sequences are equal; otherwise where and how they first differ. */
export function diffEvents(actual: readonly FuzzEvent[], expected: readonly FuzzEvent[]): string | null {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === undefined || e === undefined || !sameEvent(a, e)) {
      return `event ${i}: got ${a === undefined ? 'nothing' : describeEvent(a)}, expected ${e === undefined ? 'nothing' : describeEvent(e)} (${actual.length} events, ${expected.length} expected)`;
    }
  }
  return null;
}
