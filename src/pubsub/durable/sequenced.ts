/**
 * Durable topics as a broker provides them: every message appended to a topic gets the next offset
 * of the topic, is kept in its history (bounded by a Retention) and is delivered to every server
 * subscribed to the topic, all of them in offset order. A topic's history has an epoch, a string
 * that changes when the history is lost. Presence (who is in a topic) lives in the broker as well.
 *
 * InMemoryBroker implements this for the servers of one process, RedisBroker for every process
 * sharing a Redis (docs/pubsub.md#durable-topics).
 */
import type { Broker, BrokerSink } from '../broker.js';

/** How much of a topic's history is kept: the last `maxCount` messages, none older than `maxAge` ms. */
export interface Retention {
  maxCount: number;
  maxAge: number;
}

/** A message of a topic's history. */
export interface RetainedMessage {
  offset: number;
  data: Buffer;
  isBinary: boolean;
}

/** A message as delivered live: with the epoch of the history it belongs to. */
export interface SequencedMessage extends RetainedMessage {
  epoch: string;
  /** Not to be compressed (publish option compress: false). */
  noCompress: boolean;
}

export interface AppendRequest {
  data: Buffer;
  isBinary: boolean;
  /** Publishes with the key of a message still remembered are not stored again. */
  key?: string;
  noCompress?: boolean;
  /** A connection of the appending server not to deliver to (PublishOptions.except). */
  except?: object;
  retention: Retention;
}

export interface Appended {
  offset: number;
  epoch: string;
  /** The key was that of a message already stored: `offset` is that message's. */
  duplicate: boolean;
}

/** What read() finds of a topic's history. */
export interface HistoryRange {
  epoch: string;
  /** The topic's last offset (0: nothing published yet in this epoch). */
  last: number;
  /** The oldest offset still retained (last + 1 when none is). */
  first: number;
  /** The retained messages after the offset asked for, in order, up to `last`. */
  messages: RetainedMessage[];
}

/** A member of a topic's presence. */
export interface PresenceMember {
  client: string;
  info: unknown;
}

export type PresenceChange = 'join' | 'leave';

/** A server using a SequencedBroker: it receives the topics' messages with their offsets. */
export interface SequencedSink extends BrokerSink {
  /** A message of `topic` (this server's own appends too), in offset order. `except`: see AppendRequest. */
  deliverSequenced(topic: string, message: SequencedMessage, except: object | undefined): void;
  /** Someone joined or left the presence of `topic`. */
  presenceChanged(topic: string, change: PresenceChange, member: PresenceMember): void;
  /** The broker is connected again after an outage: live messages may have been missed meanwhile. */
  sequencedResumed?(): void;
}

export interface SequencedBroker extends Broker {
  /** Appends a message to `topic`: resolves with its offset once it is stored. */
  append(sink: SequencedSink, topic: string, request: AppendRequest): Promise<Appended>;
  /** The retained messages of `topic` after offset `after`. */
  read(topic: string, after: number, retention: Retention): Promise<HistoryRange>;
  /** Resolves once the live messages of `topic` reach this process (after sink.subscribe()). */
  whenSubscribed(topic: string): Promise<void>;
  /** Adds a member to the presence of `topic` (a 'join' for every server subscribed to it). */
  join(sink: SequencedSink, topic: string, member: PresenceMember): Promise<void>;
  /** Removes a member (a 'leave'). */
  leave(sink: SequencedSink, topic: string, member: PresenceMember): Promise<void>;
  /** The members of `topic` now. */
  members(topic: string): Promise<PresenceMember[]>;
}

export function isSequencedBroker(broker: Broker): broker is SequencedBroker {
  const b = broker as Partial<SequencedBroker>;
  return typeof b.append === 'function' && typeof b.read === 'function' && typeof b.join === 'function';
}
