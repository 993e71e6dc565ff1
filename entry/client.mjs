// import ... from 'wskit/client' (in Node): the objects of the CommonJS entry (client.cjs), so that
// importing and requiring wskit/client give the same classes (instanceof TopicsError holds either way).
import client from './client.cjs';

export const {
  Backoff,
  CLOSE_GIVEN_UP,
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEARTBEAT,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_MESSAGES,
  Emitter,
  jsonCodec,
  rawCodec,
  SUBPROTOCOL,
  Subscription,
  TopicsClient,
  TopicsError,
} = client;
