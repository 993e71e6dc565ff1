import type { FlushBatch } from './flush-batch.js';

/**
 * What a server-side connection knows of the server that accepted it: whom to tell when it closes,
 * and the topics its subscribe() and unsubscribe() work on. The server implements it (with the topics
 * of src/pubsub); the node layer knows nothing more of either.
 */
export interface ConnectionOwner {
  /** The connection closed: forget it (the set of clients, its topics). */
  release(connection: object): void;
  /** The topics of the server, or null when it has none. */
  readonly subscriptions: Subscriptions | null;
  /** Gathers the output its connections get outside their own receive, for one write each per tick. */
  readonly flushBatch: FlushBatch;
}

/** A server's topic memberships, as a connection's subscribe()/unsubscribe()/getTopics() use them. */
export interface Subscriptions {
  subscribe(connection: object, topic: string): void;
  /** Returns whether the connection was subscribed. */
  unsubscribe(connection: object, topic: string): boolean;
  isSubscribed(connection: object, topic: string): boolean;
  topicsOf(connection: object): string[];
}
