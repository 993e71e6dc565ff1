/**
 * What `client.subscribe()` returns: one topic's messages, gaps and presence, as events, and where
 * the client is in the topic. The session (session.ts) keeps it up to date and resubscribes it after
 * every reconnect; `unsubscribe()` ends it.
 */
import { Emitter } from './emitter.js';
import type { TopicsError } from './errors.js';
import { PresenceList } from './presence-list.js';
import { TopicCursor } from './topic-cursor.js';
import type { Gap, Member, Position } from './wire.js';

/** A message of a topic, decoded by the client's codec. */
export interface TopicMessage<T> {
  topic: string;
  offset: number;
  epoch: string;
  data: T;
  /** Whether it came from the topic's history (a replay), not live. */
  replayed: boolean;
}

export interface SubscribedEvent {
  topic: string;
  epoch: string;
  /** The topic's last offset when the subscription took effect. */
  offset: number;
  /** A resume (after a reconnect) that got every message missed. */
  recovered: boolean;
  /** Whether this was a resume (a subscribe with `since`). */
  resumed: boolean;
}

/** Messages the client will never get: the application should reload what it shows of the topic. */
export interface GapEvent extends Gap {
  topic: string;
  /** The epoch the client is in now. */
  epoch: string;
}

export interface PresenceEvent<I> {
  topic: string;
  members: Member<I>[];
}

export interface MemberEvent<I> {
  topic: string;
  member: Member<I>;
  /** The members after the change. */
  members: Member<I>[];
}

export interface SubscriptionEvents<T, I> {
  subscribed: SubscribedEvent;
  message: TopicMessage<T>;
  gap: GapEvent;
  /** The whole list of members: after each (re)subscription that joined the presence. */
  presence: PresenceEvent<I>;
  join: MemberEvent<I>;
  leave: MemberEvent<I>;
  /** The server refused the subscription (the subscription has ended), or a message could not be decoded. */
  error: TopicsError;
}

export interface SubscribeOptions<T, I = unknown> {
  /** On the first subscribe, the last `history` messages of the topic (at most the server's limit). Default 0. */
  history?: number;
  /** Resume from this position instead (e.g. one saved by an earlier page). */
  since?: Position;
  /** Join the topic's presence with this info (any JSON value of at most 1 KiB), and track its members. */
  presence?: { info: I };
  /** Shorthand for `on('message', listener)`. */
  onMessage?: (message: TopicMessage<T>) => void;
}

export class Subscription<T = unknown, I = unknown> extends Emitter<SubscriptionEvents<T, I>> {
  readonly topic: string;
  /** Resolves at the first `subscribed`; rejects if the server refuses it or the client closes first. */
  readonly ready: Promise<SubscribedEvent>;
  /** @internal */
  readonly cursor = new TopicCursor();
  /** @internal */
  readonly presenceList = new PresenceList<I>();
  /** @internal */
  readonly history: number;
  /** @internal */
  readonly presenceInfo: { info: I } | undefined;
  /** @internal */
  settle: { resolve: (e: SubscribedEvent) => void; reject: (e: TopicsError) => void } | null;
  /** @internal */
  ended = false;
  private readonly end: (subscription: Subscription<T, I>) => Promise<void>;

  /** @internal */
  constructor(
    topic: string,
    options: SubscribeOptions<T, I>,
    end: (subscription: Subscription<T, I>) => Promise<void>,
  ) {
    super();
    this.topic = topic;
    this.history = options.history ?? 0;
    this.presenceInfo = options.presence;
    this.end = end;
    if (options.since !== undefined) {
      this.cursor.epoch = options.since.epoch;
      this.cursor.offset = options.since.offset;
    }
    if (options.onMessage !== undefined) this.on('message', options.onMessage);
    let settle: Subscription<T, I>['settle'] = null;
    this.ready = new Promise<SubscribedEvent>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.settle = settle;
    // A refusal is also an 'error' event: the promise need not be awaited.
    this.ready.catch(() => {});
  }

  /** The epoch and last offset processed: where a resume would start (null before the first `subscribed`). */
  get position(): Position | null {
    return this.cursor.position();
  }

  /** The members of the topic's presence, as last known (joined with `presence` only). */
  get members(): Member<I>[] {
    return this.presenceList.list();
  }

  /** Leaves the topic (and its presence). Resolves when the server confirmed it, or at once if offline. */
  unsubscribe(): Promise<void> {
    return this.end(this);
  }
}
