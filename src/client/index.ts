/**
 * wskit/client: a reconnecting client of wskit.topics.v1 (docs/topics-protocol.md) for browsers and
 * Node, with no dependency on either: durable topics with resume, acknowledged publishes, presence and
 * an application-level heartbeat. See docs/client.md.
 */
export { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
export { type Codec, jsonCodec, rawCodec } from './codec.js';
export { Emitter, type Listener } from './emitter.js';
export { type ServerErrorCode, TopicsError, type TopicsErrorCode } from './errors.js';
export { DEFAULT_HEARTBEAT, type HeartbeatOptions } from './heartbeat.js';
export {
  type BufferLimits,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_MESSAGES,
  type PublishResult,
} from './publish-buffer.js';
export type { PublishOptions } from './session.js';
export {
  type GapEvent,
  type MemberEvent,
  type PresenceEvent,
  type SubscribedEvent,
  type SubscribeOptions,
  Subscription,
  type SubscriptionEvents,
  type TopicMessage,
} from './subscription.js';
export {
  CLOSE_GIVEN_UP,
  type ClientState,
  type CloseEvent,
  DEFAULT_CONNECT_TIMEOUT,
  type OpenEvent,
  type ReconnectingEvent,
  TopicsClient,
  type TopicsClientEvents,
  type TopicsClientOptions,
} from './topics-client.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket-like.js';
export { type Gap, type Member, type Position, SUBPROTOCOL } from './wire.js';
