/**
 * Every error wskit/client raises or reports is a TopicsError with a stable `code`. An error the
 * server sent (an `error` message of wskit.topics.v1) has the code TOPICS_ERR_SERVER and the server's
 * own code in `serverCode` (`forbidden`, `rate_limited`...).
 */
export type TopicsErrorCode =
  /** A publish did not fit in the send buffer (maxBufferedMessages or maxBufferedBytes). */
  | 'TOPICS_ERR_BUFFER_FULL'
  /** The client was closed (client.close()) before the request was answered. */
  | 'TOPICS_ERR_CLOSED'
  /** The server answered a request with an `error`: see `serverCode`. */
  | 'TOPICS_ERR_SERVER'
  /** The server sent something that is not a wskit.topics.v1 message; it was ignored. */
  | 'TOPICS_ERR_PROTOCOL'
  /** The server did not select the wskit.topics.v1 subprotocol; the connection was closed. */
  | 'TOPICS_ERR_SUBPROTOCOL'
  /** No answer to the heartbeat within its timeout; the connection was dropped and is retried. */
  | 'TOPICS_ERR_HEARTBEAT_TIMEOUT'
  /** The codec could not encode a value to publish, or decode a message (which was skipped). */
  | 'TOPICS_ERR_CODEC'
  /** The WebSocket could not be created (no global WebSocket: pass the `WebSocket` option). */
  | 'TOPICS_ERR_NO_WEBSOCKET'
  /** A bad argument: an option out of range, an empty topic, a topic subscribed twice. */
  | 'TOPICS_ERR_INVALID_ARGUMENT';

/** The codes a wskit.topics.v1 server puts in an `error` message (docs/topics-protocol.md). */
export type ServerErrorCode =
  | 'bad_message'
  | 'bad_topic'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'not_subscribed'
  | (string & {});

export interface TopicsErrorOptions {
  /** The server's code, for TOPICS_ERR_SERVER. */
  serverCode?: ServerErrorCode;
  /** The topic the error is about, when there is one. */
  topic?: string;
  cause?: unknown;
}

export class TopicsError extends Error {
  readonly code: TopicsErrorCode;
  readonly serverCode: ServerErrorCode | undefined;
  readonly topic: string | undefined;

  constructor(code: TopicsErrorCode, message: string, options: TopicsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TopicsError';
    this.code = code;
    this.serverCode = options.serverCode;
    this.topic = options.topic;
  }
}

export function argumentError(message: string): TopicsError {
  return new TopicsError('TOPICS_ERR_INVALID_ARGUMENT', message);
}
