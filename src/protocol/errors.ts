/**
 * Every error wskit raises is a WebSocketError with a stable `code`. Errors that come from the peer's
 * bytes also carry the close code (`closeCode`) the connection is failed with; errors from a rejected
 * opening handshake carry the HTTP `status`.
 */
export type ErrorCode =
  // a compressed message zlib could not inflate: zlib's own code, as ws passes it (close code 1007)
  | ZlibErrorCode
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
  | 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
  // the opening handshake
  | 'WS_ERR_HANDSHAKE_INVALID_REQUEST'
  | 'WS_ERR_HANDSHAKE_INVALID_RESPONSE'
  | 'WS_ERR_HANDSHAKE_REJECTED'
  | 'WS_ERR_HANDSHAKE_TIMEOUT'
  | 'WS_ERR_HANDSHAKE_ABORTED'
  | 'WS_ERR_PROXY_REJECTED'
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
  // WebSocketStream: the connection ended without a closing handshake
  | 'WS_ERR_ABNORMAL_CLOSURE'
  // what an older protocol (hixie-76) cannot carry
  | 'WS_ERR_LEGACY_UNSUPPORTED'
  // WebSockets over HTTP/2 (RFC 8441)
  | 'WS_ERR_HTTP2_UNSUPPORTED'
  // topics across processes
  | 'WS_ERR_BROKER_UNAVAILABLE';

/**
 * The codes of zlib's errors (Node's zlib gives its errors these as `code`): a message that does not
 * inflate fails the connection with zlib's code and message, as in ws.
 */
export type ZlibErrorCode =
  | 'Z_DATA_ERROR'
  | 'Z_BUF_ERROR'
  | 'Z_NEED_DICT'
  | 'Z_STREAM_ERROR'
  | 'Z_MEM_ERROR'
  | 'Z_VERSION_ERROR'
  | 'Z_ERRNO';

const ZLIB_CODES: ReadonlySet<string> = new Set<ZlibErrorCode>([
  'Z_DATA_ERROR',
  'Z_BUF_ERROR',
  'Z_NEED_DICT',
  'Z_STREAM_ERROR',
  'Z_MEM_ERROR',
  'Z_VERSION_ERROR',
  'Z_ERRNO',
]);

/** Whether `code` is one of zlib's error codes. */
export function isZlibErrorCode(code: unknown): code is ZlibErrorCode {
  return typeof code === 'string' && ZLIB_CODES.has(code);
}

export interface WebSocketErrorOptions {
  /** The close code a connection is failed with because of this error. */
  closeCode?: number;
  /** The HTTP status an opening handshake is refused with because of this error. */
  status?: number;
  /** The close reason that goes with closeCode (WebSocketStream's WebSocketError.reason). */
  reason?: string;
  /**
   * What wskit knows beyond ws's text, which `message` keeps exactly: what was received, what to do.
   * Set only when given.
   */
  detail?: string;
  /** zlib's errno, with a zlib code (as on zlib's own error, which ws passes on). */
  errno?: number;
  cause?: unknown;
}

/**
 * Marks every error wskit raises, whatever its class: `err instanceof WebSocketError` is true for a
 * WebSocketRangeError too. A registered symbol, so that two copies of wskit (ESM and CommonJS entries
 * loaded side by side) recognise each other's errors.
 */
const BRAND: unique symbol = Symbol.for('wskit.WebSocketError') as never;

/** The fields every wskit error carries, whatever the built-in class it extends. */
export interface CodedError extends Error {
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;
  readonly status: number | undefined;
  /** The close reason with closeCode, where there is one (WebSocketStream's errors); else absent. */
  readonly reason?: string;
  /** wskit's detail beyond `message` (which is ws's text, where ws raises the error too); else absent. */
  readonly detail?: string;
  /** zlib's errno where `code` is a ZlibErrorCode; else absent. */
  readonly errno?: number;
}

function brand(error: Error, code: ErrorCode, options: WebSocketErrorOptions, name: string): void {
  const fields = error as { -readonly [K in keyof CodedError]: CodedError[K] };
  fields.name = name;
  fields.code = code;
  fields.closeCode = options.closeCode;
  fields.status = options.status;
  // Only where given: the other errors keep the properties ws's errors have.
  if (options.reason !== undefined) fields.reason = options.reason;
  if (options.detail !== undefined) fields.detail = options.detail;
  if (options.errno !== undefined) fields.errno = options.errno;
  Object.defineProperty(error, BRAND, { value: true });
}

function causeOf(options: WebSocketErrorOptions): ErrorOptions | undefined {
  return options.cause === undefined ? undefined : { cause: options.cause };
}

/**
 * The class of wskit's errors. Errors where ws throws a RangeError, TypeError or SyntaxError are
 * instances of that class too (WebSocketRangeError, WebSocketTypeError, WebSocketSyntaxError), and
 * still `instanceof WebSocketError`, with the same `code`.
 */
export class WebSocketError extends Error implements CodedError {
  declare readonly code: ErrorCode;
  declare readonly closeCode: number | undefined;
  declare readonly status: number | undefined;
  declare readonly reason?: string;
  declare readonly detail?: string;
  declare readonly errno?: number;

  constructor(code: ErrorCode, message: string, options: WebSocketErrorOptions = {}) {
    super(message, causeOf(options));
    // Named 'Error', as ws's errors are (String(err) is 'Error: ...'); WebSocketStream's
    // WebSocketError (the WHATWG one, an abnormal closure) keeps the name the spec gives it.
    brand(this, code, options, code === 'WS_ERR_ABNORMAL_CLOSURE' ? 'WebSocketError' : 'Error');
  }

  /** True for every error wskit raises (of any of its classes), and for instances of subclasses. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof asks about (a subclass inherits this method)
    if (this !== WebSocketError)
      return Function.prototype[Symbol.hasInstance].call(
        // biome-ignore lint/complexity/noThisInStatic: as above
        this,
        value,
      );
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true;
  }
}

/** A value out of range (a frame the peer sent against RFC 6455, a payload too long): a RangeError. */
export class WebSocketRangeError extends RangeError implements CodedError {
  declare readonly code: ErrorCode;
  declare readonly closeCode: number | undefined;
  declare readonly status: number | undefined;
  declare readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: WebSocketErrorOptions = {}) {
    super(message, causeOf(options));
    brand(this, code, options, 'RangeError');
  }
}

/** An argument of the wrong type or value (most bad arguments, as in ws): a TypeError. */
export class WebSocketTypeError extends TypeError implements CodedError {
  declare readonly code: ErrorCode;
  declare readonly closeCode: number | undefined;
  declare readonly status: number | undefined;
  declare readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: WebSocketErrorOptions = {}) {
    super(message, causeOf(options));
    brand(this, code, options, 'TypeError');
  }
}

/** Text that does not parse (a URL, a subprotocol list): a SyntaxError. */
export class WebSocketSyntaxError extends SyntaxError implements CodedError {
  declare readonly code: ErrorCode;
  declare readonly closeCode: number | undefined;
  declare readonly status: number | undefined;
  declare readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: WebSocketErrorOptions = {}) {
    super(message, causeOf(options));
    brand(this, code, options, 'SyntaxError');
  }
}

/** The built-in class each kind of error extends, as ws chooses it. */
export type ErrorKind = 'Error' | 'RangeError' | 'TypeError' | 'SyntaxError';

/** The frame errors ws raises as RangeError; invalid UTF-8 and inflate failures are plain Errors. */
const RANGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'WS_ERR_INVALID_OPCODE',
  'WS_ERR_UNEXPECTED_RSV_1',
  'WS_ERR_UNEXPECTED_RSV_2_3',
  'WS_ERR_EXPECTED_FIN',
  'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  'WS_ERR_EXPECTED_MASK',
  'WS_ERR_UNEXPECTED_MASK',
  'WS_ERR_UNEXPECTED_CONTINUATION',
  'WS_ERR_EXPECTED_CONTINUATION',
  'WS_ERR_INVALID_CLOSE_CODE',
  'WS_ERR_INVALID_CLOSE_PAYLOAD',
  'WS_ERR_TOO_MANY_BUFFERED_PARTS',
]);

function kindOf(code: ErrorCode): ErrorKind {
  if (RANGE_CODES.has(code)) return 'RangeError';
  if (code === 'WS_ERR_INVALID_URL') return 'SyntaxError';
  if (code === 'WS_ERR_INVALID_ARGUMENT') return 'TypeError';
  return 'Error';
}

/**
 * A wskit error of the class ws raises for it (by `code`, or `kind` when given): every wskit error is
 * made here, so that `instanceof RangeError` and friends hold where they hold for ws.
 */
export function createError(
  code: ErrorCode,
  message: string,
  options: WebSocketErrorOptions = {},
  kind: ErrorKind = kindOf(code),
): CodedError {
  switch (kind) {
    case 'RangeError':
      return new WebSocketRangeError(code, message, options);
    case 'TypeError':
      return new WebSocketTypeError(code, message, options);
    case 'SyntaxError':
      return new WebSocketSyntaxError(code, message, options);
    default:
      return new WebSocketError(code, message, options);
  }
}

/** A protocol violation by the peer: fails the connection with close code 1002. */
export function protocolError(code: ErrorCode, message: string): CodedError {
  return createError(code, message, { closeCode: 1002 });
}

/**
 * A bad argument from the caller of the API: a TypeError by default, as ws throws for most; ws throws
 * a RangeError for lengths and versions out of range and a SyntaxError for unparsable text.
 */
export function argumentError(message: string, kind: ErrorKind = 'TypeError', detail?: string): CodedError {
  return createError('WS_ERR_INVALID_ARGUMENT', message, detail === undefined ? {} : { detail }, kind);
}
