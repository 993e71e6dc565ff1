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
export {
  createFlashPolicyServer,
  type FlashPolicyServerOptions,
} from './node/legacy/flash-policy.js';
export { isHixie76 } from './node/legacy/is-hixie76.js';
export type { LegacyOptions } from './node/legacy/legacy-options.js';
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
export { RedisBroker, type RedisBrokerOptions } from './pubsub/redis-broker.js';
export type { RedisClient } from './pubsub/redis-client.js';
export type { BackpressurePolicy, PublishOptions, TopicsOptions } from './pubsub/topics.js';
export type { ServerOptions, VerifyClientCallback, VerifyClientInfo } from './server/websocket-server.js';
export { WebSocketServer } from './server/websocket-server.js';

import { WebSocket } from './node/connection/websocket.js';
export default WebSocket;
