/**
 * Every error wskit raises is a WebSocketError with a stable `code`. Errors that come from the peer's
 * bytes also carry the close code (`closeCode`) the connection is failed with; errors from a rejected
 * opening handshake carry the HTTP `status`.
 */
export type ErrorCode =
  // frames received from the peer (RFC 6455 §5)
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_CONTINUATION'
  | 'WS_ERR_EXPECTED_CONTINUATION'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_CLOSE_PAYLOAD'
  | 'WS_ERR_DECOMPRESSION_FAILED'
  // the opening handshake
  | 'WS_ERR_HANDSHAKE_INVALID_REQUEST'
  | 'WS_ERR_HANDSHAKE_INVALID_RESPONSE'
  | 'WS_ERR_HANDSHAKE_REJECTED'
  | 'WS_ERR_HANDSHAKE_TIMEOUT'
  | 'WS_ERR_INVALID_EXTENSION_HEADER'
  | 'WS_ERR_INVALID_PROTOCOL_HEADER'
  // the API
  | 'WS_ERR_INVALID_ARGUMENT'
  | 'WS_ERR_INVALID_STATE'
  | 'WS_ERR_NOT_OPEN'
  | 'WS_ERR_HEARTBEAT_TIMEOUT'
  | 'WS_ERR_BACKPRESSURE_LIMIT'
  | 'WS_ERR_SERVER_CLOSED'
  | 'WS_ERR_INVALID_URL'
  | 'WS_ERR_TOO_MANY_REDIRECTS'
  // WebSockets over HTTP/2 (RFC 8441)
  | 'WS_ERR_HTTP2_UNSUPPORTED'
  // topics across processes
  | 'WS_ERR_BROKER_UNAVAILABLE';

export interface WebSocketErrorOptions {
  /** The close code a connection is failed with because of this error. */
  closeCode?: number;
  /** The HTTP status an opening handshake is refused with because of this error. */
  status?: number;
  cause?: unknown;
}

export class WebSocketError extends Error {
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: WebSocketErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = options.closeCode;
    this.status = options.status;
  }
}

/** A protocol violation by the peer: fails the connection with close code 1002. */
export function protocolError(code: ErrorCode, message: string): WebSocketError {
  return new WebSocketError(code, message, { closeCode: 1002 });
}

/** A bad argument from the caller of the API. */
export function argumentError(message: string): WebSocketError {
  return new WebSocketError('WS_ERR_INVALID_ARGUMENT', message);
}
