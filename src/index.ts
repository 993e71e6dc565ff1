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
export { CloseCode, ReadyState } from './protocol/constants.js';
export type { ErrorCode } from './protocol/errors.js';
export { WebSocketError } from './protocol/errors.js';
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
export type { ServerOptions, VerifyClientCallback, VerifyClientInfo } from './server/websocket-server.js';
export { WebSocketServer } from './server/websocket-server.js';

import { WebSocket } from './node/connection/websocket.js';
export default WebSocket;
