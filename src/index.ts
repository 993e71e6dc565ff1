/**
 * wskit: a WebSocket toolkit for Node.js. The server and client have the API of ws, so that
 * `import { WebSocket, WebSocketServer } from 'wskit'` is a drop-in replacement.
 */

export { CloseEvent, ErrorEvent, Event, MessageEvent } from './node/connection/events.js';
export type { ConnectionOptions, HeartbeatOptions } from './node/connection/options.js';
export type { BinaryType, SendData } from './node/connection/send-data.js';
export { createWebSocketStream } from './node/connection/stream.js';
export type {
  RawData,
  SendCallback,
  WebSocketOptions,
  WebSocketSendOptions,
} from './node/connection/websocket.js';
export { WebSocket } from './node/connection/websocket.js';
export type { PerMessageDeflateOptions } from './node/deflate/codec.js';
export type { ClientOptions } from './node/handshake/client-handshake.js';
export type { ProxyOption } from './node/handshake/proxy-route.js';
export type { Http2ClientOptions } from './node/http2/client-stream.js';
export type { Http2UpgradeRequest } from './node/http2/stream-request.js';
export {
  createFlashPolicyServer,
  type FlashPolicyServerOptions,
} from './node/legacy/flash-policy.js';
export { isHixie76 } from './node/legacy/is-hixie76.js';
export type { LegacyOptions } from './node/legacy/legacy-options.js';
export type { WebSocketCloseInfo } from './node/streams/close-info.js';
export {
  toWebStreams,
  type WebSocketChunk,
  type WebSocketStreams,
  type WebSocketWritableChunk,
  type WebStreamsOptions,
} from './node/streams/web-streams.js';
export {
  type WebSocketOpenInfo,
  WebSocketStream,
  type WebSocketStreamOptions,
} from './node/streams/websocket-stream.js';
export { CloseCode, ReadyState } from './protocol/constants.js';
export type { CodedError, ErrorCode, ErrorKind } from './protocol/errors.js';
export {
  WebSocketError,
  WebSocketRangeError,
  WebSocketSyntaxError,
  WebSocketTypeError,
} from './protocol/errors.js';
export type { FlashPolicyOptions } from './protocol/flash-policy.js';
export { type Broker, type BrokerSink, InMemoryBroker } from './pubsub/broker.js';
export type {
  DurableOptions,
  DurablePublished,
  DurablePublishOptions,
  DurableTopics,
  HistoryOptions,
  HistoryQuery,
  TopicAction,
  TopicHistoryRead,
  TopicsConnection,
} from './pubsub/durable/durable-topics.js';
export type { PresenceListener, PresenceWatch } from './pubsub/durable/presence-watch.js';
export type {
  Appended,
  AppendRequest,
  HistoryRange,
  PresenceChange,
  PresenceMember,
  RetainedMessage,
  Retention,
  SequencedBroker,
  SequencedMessage,
  SequencedSink,
} from './pubsub/durable/sequenced.js';
export { RedisBroker, type RedisBrokerOptions } from './pubsub/redis-broker.js';
export type { RedisClient } from './pubsub/redis-client.js';
export type { BackpressurePolicy, PublishOptions, TopicsOptions } from './pubsub/topics.js';
export type { ServerTlsOptions } from './server/tls-server.js';
export type { ServerOptions, VerifyClientCallback, VerifyClientInfo } from './server/websocket-server.js';
export { WebSocketServer } from './server/websocket-server.js';

import { WebSocket } from './node/connection/websocket.js';
export default WebSocket;
