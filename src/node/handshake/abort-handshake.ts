import type { Duplex } from 'node:stream';
import { buildErrorResponse } from '../../protocol/http-status.js';

/** Answers a refused opening handshake with an HTTP error and closes the socket. */
export function abortHandshake(
  socket: Duplex,
  status: number,
  reason: string,
  headers?: Record<string, string | number>,
): void {
  socket.on('error', () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(buildErrorResponse(status, reason, headers));
}
