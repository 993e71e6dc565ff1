import { argumentError } from '../protocol/errors.js';

/** Longest topic name, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 1024;

/** Throws WS_ERR_INVALID_ARGUMENT unless `topic` is a non-empty string of at most 1024 characters. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    throw argumentError(
      `A topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters; got ${String(topic)}`,
    );
  }
}

/**
 * Which connections of one server are subscribed to which topic, both ways: topic → subscribers for
 * publishing, subscriber → topics for getTopics() and for cleaning up when it closes.
 */
export class TopicRegistry<T> {
  private readonly byTopic = new Map<string, Set<T>>();
  private readonly bySubscriber = new Map<T, Set<string>>();

  /** Subscribes; returns true when `topic` had no subscriber before (the broker must now listen to it). */
  subscribe(subscriber: T, topic: string): boolean {
    let topics = this.bySubscriber.get(subscriber);
    if (topics === undefined) this.bySubscriber.set(subscriber, (topics = new Set()));
    if (topics.has(topic)) return false;
    topics.add(topic);
    let subscribers = this.byTopic.get(topic);
    const first = subscribers === undefined;
    if (subscribers === undefined) this.byTopic.set(topic, (subscribers = new Set()));
    subscribers.add(subscriber);
    return first;
  }

  /** Unsubscribes; returns true when `topic` has no subscriber left. */
  unsubscribe(subscriber: T, topic: string): boolean {
    const topics = this.bySubscriber.get(subscriber);
    if (topics === undefined || !topics.delete(topic)) return false;
    if (topics.size === 0) this.bySubscriber.delete(subscriber);
    const subscribers = this.byTopic.get(topic)!;
    subscribers.delete(subscriber);
    if (subscribers.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  /** Removes a subscriber from all its topics; returns the topics left with no subscriber. */
  removeAll(subscriber: T): string[] {
    const topics = this.bySubscriber.get(subscriber);
    if (topics === undefined) return [];
    const emptied: string[] = [];
    for (const topic of [...topics]) if (this.unsubscribe(subscriber, topic)) emptied.push(topic);
    return emptied;
  }

  isSubscribed(subscriber: T, topic: string): boolean {
    return this.bySubscriber.get(subscriber)?.has(topic) ?? false;
  }

  topicsOf(subscriber: T): string[] {
    const topics = this.bySubscriber.get(subscriber);
    return topics === undefined ? [] : [...topics];
  }

  subscribers(topic: string): ReadonlySet<T> | undefined {
    return this.byTopic.get(topic);
  }

  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  /** Every topic with at least one subscriber. */
  topics(): string[] {
    return [...this.byTopic.keys()];
  }
}
