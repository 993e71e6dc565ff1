import type { ReadyState } from '../../protocol/constants.js';
import { createError, type WebSocketError } from '../../protocol/errors.js';

const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

/** The error for an operation that needs an OPEN connection. */
export function notOpen(state: ReadyState): WebSocketError {
  return createError('WS_ERR_NOT_OPEN', `WebSocket is not open: readyState ${state} (${STATE_NAMES[state]})`);
}
