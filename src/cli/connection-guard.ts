/**
 * Runs a server's per-connection handlers so that a throw in one ends that connection, never the
 * process: the error is reported, the connection is closed with 1011 (Internal Error), and the
 * server goes on serving the others.
 */
import type { WebSocket } from '../index.js';

/** Close code and reason sent to a connection whose handler threw. */
export const INTERNAL_ERROR_CODE = 1011;
export const INTERNAL_ERROR_REASON = 'Internal server error';

export type ReportHandlerError = (error: unknown) => void;

/** Closes `ws` with 1011 (or drops it, if a close cannot be sent any more). */
export function failConnection(ws: WebSocket): void {
  try {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.close(INTERNAL_ERROR_CODE, INTERNAL_ERROR_REASON);
    } else if (ws.readyState === ws.CLOSING) {
      ws.terminate();
    }
  } catch {
    ws.terminate();
  }
}

/**
 * `handler`, wrapped: when it throws, `report(error)` is called and `ws` is closed with 1011; nothing
 * is thrown to the caller (the event emitter of a socket, which would end the process).
 */
export function guard<A extends unknown[]>(
  ws: WebSocket,
  report: ReportHandlerError,
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args: A) => {
    try {
      handler(...args);
    } catch (error) {
      try {
        report(error);
      } catch {
        // Reporting must not be what ends the process either.
      }
      failConnection(ws);
    }
  };
}
