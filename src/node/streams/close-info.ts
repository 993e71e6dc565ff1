import { Buffer } from 'node:buffer';
import { MAX_CLOSE_REASON_BYTES } from '../../protocol/close.js';
import { argumentError, WebSocketError } from '../../protocol/errors.js';

/** How a WebSocketStream closed, or is to close (WHATWG WebSocketCloseInfo). */
export interface WebSocketCloseInfo {
  /** 1000 or 3000-4999 when closing; the code received (1005: none) when closed. */
  closeCode?: number;
  /** At most 123 bytes of UTF-8. Default ''. */
  reason?: string;
}

/** The close code and reason that close() sends: undefined code = an empty Close frame (1005). */
export interface CloseRequest {
  code: number | undefined;
  reason: string;
}

/**
 * The checks of WebSocketStream's close(): a code of 1000 or 3000-4999 (those an application may
 * send), a reason of at most 123 bytes; a reason without a code means 1000. Throws
 * WS_ERR_INVALID_ARGUMENT (where a browser throws a DOMException).
 */
export function closeRequest(info: unknown): CloseRequest {
  if (info === undefined || info === null) return { code: undefined, reason: '' };
  if (typeof info !== 'object') {
    throw argumentError('close() takes an object { closeCode, reason }');
  }
  const { closeCode, reason } = info as WebSocketCloseInfo;
  const text = reason === undefined ? '' : String(reason);
  if (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) {
    throw argumentError(`The close reason is ${Buffer.byteLength(text)} bytes: at most 123 fit`);
  }
  if (closeCode === undefined) return { code: text === '' ? undefined : 1000, reason: text };
  if (!isApplicationCloseCode(closeCode)) {
    throw argumentError(`Invalid closeCode ${String(closeCode)}: use 1000 or a code from 3000 to 4999`);
  }
  return { code: closeCode, reason: text };
}

function isApplicationCloseCode(code: unknown): code is number {
  return (
    typeof code === 'number' && Number.isInteger(code) && (code === 1000 || (code >= 3000 && code <= 4999))
  );
}

/**
 * The close a readable's cancel(reason) or a writable's abort(reason) asks for: a WebSocketError's
 * closeCode and reason when they are valid, else an empty Close frame (as the WHATWG algorithm
 * "close using reason": any other reason is ignored).
 */
export function closeRequestFor(reason: unknown): CloseRequest {
  if (reason instanceof WebSocketError && reason.closeCode !== undefined) {
    try {
      return closeRequest({ closeCode: reason.closeCode, reason: reason.reason });
    } catch {
      // an invalid code or reason is ignored
    }
  }
  return { code: undefined, reason: '' };
}
