import { Buffer, isUtf8 } from 'node:buffer';
import { EMPTY_BUFFER } from './constants.js';
import { argumentError, createError, protocolError } from './errors.js';

/** The longest close reason that fits in a control frame: 125 bytes less the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether a close code may appear in a Close frame on the wire (RFC 6455 §7.4): 1000–1003, 1007–1014
 * and the registered/private range 3000–4999. 1004, 1005, 1006 and 1015 are reserved for local use.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface ClosePayload {
  /** The code, or 1005 when the frame carried none. */
  code: number;
  /** The reason, as the UTF-8 bytes that were received. */
  reason: Buffer;
}

/** Decodes and checks the payload of a received Close frame; throws a WebSocketError on a violation. */
export function decodeClosePayload(payload: Buffer, validateUtf8 = true): ClosePayload {
  if (payload.length === 0) return { code: 1005, reason: EMPTY_BUFFER };
  if (payload.length === 1) {
    throw protocolError('WS_ERR_INVALID_CLOSE_PAYLOAD', 'Close frame payload of 1 byte: a code takes 2');
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    throw protocolError('WS_ERR_INVALID_CLOSE_CODE', `Invalid close code ${code} in a Close frame`);
  }
  const reason = payload.subarray(2);
  if (validateUtf8 && !isUtf8(reason)) {
    throw createError('WS_ERR_INVALID_UTF8', 'Close reason is not valid UTF-8', { closeCode: 1007 });
  }
  return { code, reason };
}

/**
 * A close reason as text or as a Buffer over the caller's bytes: any ArrayBufferView (a typed array
 * counts in bytes, not elements, and only its own bytes are read) or ArrayBuffer. Anything else is
 * refused with WS_ERR_INVALID_ARGUMENT.
 */
function reasonOf(reason: unknown): string | Buffer | undefined {
  if (reason === undefined || typeof reason === 'string' || Buffer.isBuffer(reason)) return reason;
  if (ArrayBuffer.isView(reason)) return Buffer.from(reason.buffer, reason.byteOffset, reason.byteLength);
  if (reason instanceof ArrayBuffer) return Buffer.from(reason);
  throw argumentError(
    'Second argument must be a string or a Uint8Array',
    'TypeError',
    `a close reason is a string, a Buffer, a typed array or an ArrayBuffer; got ${
      reason === null
        ? 'null'
        : typeof reason === 'object'
          ? Object.prototype.toString.call(reason)
          : typeof reason
    }`,
  );
}

/**
 * Builds the payload of a Close frame to send. Without a code the payload is empty, unless there is a
 * reason: then the code is 1000 (WHATWG WebSocket close()). Throws a
 * WebSocketError (WS_ERR_INVALID_ARGUMENT) for a code that may not be sent, a reason over 123 bytes
 * or a reason that is neither text nor bytes: ws's texts (sender.js close()), with `detail`.
 */
export function encodeClosePayload(code?: number, reason?: string | ArrayBufferView | ArrayBuffer): Buffer {
  const text = reasonOf(reason);
  const length = text === undefined ? 0 : typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (code === undefined) {
    if (length === 0) return EMPTY_BUFFER;
    // A reason without a code: 1000, as the WHATWG WebSocket's close() does (ws drops the reason and
    // sends an empty Close frame; neither throws).
    code = 1000;
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw argumentError(
      'First argument must be a valid error code number',
      'TypeError',
      `invalid close code ${String(code)}: use 1000, 1001-1003, 1007-1014 or an application code in 3000-4999`,
    );
  }
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw argumentError(
      'The message must not be greater than 123 bytes',
      'RangeError',
      `the close reason is ${length} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit in a Close frame`,
    );
  }
  // RFC 6455 §5.5.1: the reason is UTF-8 (a peer fails the connection with 1007 otherwise).
  if (typeof text !== 'string' && text !== undefined && !isUtf8(text)) {
    throw argumentError('A close reason given as bytes must be valid UTF-8 (RFC 6455 §5.5.1)');
  }
  const payload = Buffer.allocUnsafe(2 + length);
  payload.writeUInt16BE(code, 0);
  if (typeof text === 'string') payload.write(text, 2, 'utf8');
  else if (text !== undefined) text.copy(payload, 2);
  return payload;
}
