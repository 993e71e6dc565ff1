import { ReadyState } from '../protocol/constants.js';
import { WebSocketError } from '../protocol/errors.js';
import { DEFAULT_CLOSE_TIMEOUT } from './options.js';
import { flushOutput } from './socket-io.js';
import type { WebSocket } from './websocket.js';

/*
 * How a connection ends: the closing-handshake timer, ending our side of TCP, giving up on a peer
 * that does not read, aborting a client's opening handshake, and the final 'close' event. Shared by
 * the WebSocket class, the socket listeners, the client handshake and the topics.
 */

const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

/** The error for an operation that needs an OPEN connection. */
export function notOpen(state: ReadyState): WebSocketError {
  return new WebSocketError(
    'WS_ERR_NOT_OPEN',
    `WebSocket is not open: readyState ${state} (${STATE_NAMES[state]})`,
  );
}

/** @internal Ends our side of TCP once everything queued is written; destroys after closeTimeout. */
export function endSocket(ws: WebSocket): void {
  const socket = ws._socket;
  if (socket === null) return;
  socket.end();
  setCloseTimer(ws);
}

/** @internal Destroys the socket if the peer does not finish closing within closeTimeout. */
export function setCloseTimer(ws: WebSocket): void {
  if (ws._closeTimer !== null || ws._socket === null) return;
  const ms = ws._options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
  ws._closeTimer = setTimeout(destroySocket, ms, ws);
  ws._closeTimer.unref?.();
}

function destroySocket(ws: WebSocket): void {
  ws._closeTimer = null;
  ws._socket?.destroy();
}

/**
 * The peer does not read fast enough (its send buffer passed maxBufferedAmount, or the server's
 * maxBackpressure with the 'close' policy): drop what is queued, close with 1008, stop waiting on it.
 */
export function overflow(
  ws: WebSocket,
  message = 'More than maxBufferedAmount bytes were waiting to be sent: closed with 1008',
): void {
  const protocol = ws._protocol;
  if (protocol === null || ws._readyState === ReadyState.CLOSED) return;
  if (!ws._receivedClose) ws._closeCode = 1008;
  const error = new WebSocketError('WS_ERR_BACKPRESSURE_LIMIT', message, { closeCode: 1008 });
  // Drop what was not written yet; the callbacks waiting for it learn that it was not sent.
  protocol.takeOutput();
  ws._deflate?.close(error);
  const dropped = ws._callbacks;
  ws._callbacks = null;
  if (dropped !== null) for (const cb of dropped) process.nextTick(cb, error);
  if (!protocol.closeSent) protocol.close(1008, 'Send buffer limit exceeded');
  ws._sentClose = true;
  ws._readyState = ReadyState.CLOSING;
  flushOutput(ws);
  endSocket(ws);
  ws.emitError(error);
}

/** @internal Aborts a client's opening handshake: 'error' then 'close' (1006). */
export function abortConnecting(ws: WebSocket, message: string, error?: Error): void {
  ws._readyState = ReadyState.CLOSING;
  const err = error ?? new WebSocketError('WS_ERR_HANDSHAKE_REJECTED', message);
  const req = ws._req;
  ws._req = null;
  if (req !== null) {
    req.destroy();
    req.on('error', () => {});
  }
  if (ws._socket !== null) {
    ws._socket.destroy();
  }
  process.nextTick(() => {
    ws.emitError(err);
    emitClose(ws);
  });
}

/** @internal The connection is over: 'close' with the peer's code (or 1006) and reason. */
export function emitClose(ws: WebSocket): void {
  if (ws._readyState === ReadyState.CLOSED) return;
  ws._readyState = ReadyState.CLOSED;
  if (ws._closeTimer !== null) {
    clearTimeout(ws._closeTimer);
    ws._closeTimer = null;
  }
  ws._heartbeat?.delete(ws);
  ws._heartbeat = null;
  ws._deflate?.close(notOpen(ReadyState.CLOSED));
  ws._topics?.remove(ws);
  ws._connections?.delete(ws);
  ws.emit('close', ws._closeCode, ws._closeReason);
}
