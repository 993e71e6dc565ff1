/**
 * wskit: a WebSocket toolkit for Node.js. The server and client have the API of ws, so that
 * `import { WebSocket, WebSocketServer } from 'wskit'` is a drop-in replacement.
 */

export type { ClientOptions } from './node/client-request.js';
export { CloseEvent, ErrorEvent, Event, MessageEvent } from './node/events.js';
export type { ConnectionOptions, HeartbeatOptions } from './node/options.js';
export type { PerMessageDeflateOptions } from './node/permessage-deflate.js';
export type { BinaryType, SendData } from './node/send-data.js';
export { createWebSocketStream } from './node/stream.js';
export type { RawData, SendCallback, WebSocketOptions, WebSocketSendOptions } from './node/websocket.js';
export { WebSocket } from './node/websocket.js';
export type { ServerOptions, VerifyClientCallback, VerifyClientInfo } from './node/websocket-server.js';
export { WebSocketServer } from './node/websocket-server.js';
export { CloseCode, ReadyState } from './protocol/constants.js';
export type { ErrorCode } from './protocol/errors.js';
export { WebSocketError } from './protocol/errors.js';
export { type Broker, type BrokerSink, InMemoryBroker } from './pubsub/broker.js';
export { RedisBroker, type RedisBrokerOptions } from './pubsub/redis-broker.js';
export type { RedisClient } from './pubsub/redis-client.js';
export type { BackpressurePolicy, PublishOptions, TopicsOptions } from './pubsub/topics.js';

import { WebSocket } from './node/websocket.js';
export default WebSocket;
