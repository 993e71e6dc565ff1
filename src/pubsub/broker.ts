import { TopicHistory } from './durable/memory-history.js';
import type {
  Appended,
  AppendRequest,
  HistoryRange,
  PresenceChange,
  PresenceMember,
  Retention,
  SequencedBroker,
  SequencedMessage,
  SequencedSink,
} from './durable/sequenced.js';

/**
 * How servers share topics: a server (a "sink") tells the broker which topics it has subscribers for,
 * publishes through it, and receives what other servers published. The in-memory broker connects the
 * servers of one process; RedisBroker connects processes and machines.
 */
export interface BrokerSink {
  /** A message another server published on a topic this sink subscribed to. */
  deliver(topic: string, data: Buffer, isBinary: boolean): void;
  /** The broker could not do something (publish, subscribe) or lost its connection; local delivery goes on. */
  brokerError(error: Error): void;
}

export interface Broker {
  /** A server starts using this broker. */
  attach(sink: BrokerSink): void;
  /** The server stops using it (its topics are unsubscribed). */
  detach(sink: BrokerSink): void;
  /** The sink has its first subscriber for `topic`. */
  subscribe(sink: BrokerSink, topic: string): void;
  /** The sink's last subscriber for `topic` left. */
  unsubscribe(sink: BrokerSink, topic: string): void;
  /**
   * Sends a message to every other sink subscribed to `topic` (the publisher delivered it to its own
   * subscribers already). Resolves once the broker accepted it; rejects if it could not.
   */
  publish(sink: BrokerSink, topic: string, data: Buffer, isBinary: boolean): Promise<void>;
  /** Releases the broker's resources (connections to Redis...). */
  close(): Promise<void>;
}

/**
 * The default broker: connects the servers of one process that share it (a server given none gets a
 * broker of its own, and its topics stay within it). Delivery is synchronous and in order. It keeps
 * the history and presence of durable topics in memory (SequencedBroker).
 */
export class InMemoryBroker implements SequencedBroker {
  private readonly sinks = new Set<BrokerSink>();
  private readonly topics = new Map<string, Set<BrokerSink>>();
  private readonly histories = new Map<string, TopicHistory>();

  attach(sink: BrokerSink): void {
    this.sinks.add(sink);
  }

  detach(sink: BrokerSink): void {
    this.sinks.delete(sink);
    for (const [topic, sinks] of this.topics) {
      sinks.delete(sink);
      if (sinks.size === 0) this.topics.delete(topic);
    }
  }

  subscribe(sink: BrokerSink, topic: string): void {
    let sinks = this.topics.get(topic);
    if (sinks === undefined) this.topics.set(topic, (sinks = new Set()));
    sinks.add(sink);
  }

  unsubscribe(sink: BrokerSink, topic: string): void {
    const sinks = this.topics.get(topic);
    if (sinks === undefined) return;
    sinks.delete(sink);
    if (sinks.size > 0) return;
    this.topics.delete(topic);
    this.forget(topic);
  }

  publish(sink: BrokerSink, topic: string, data: Buffer, isBinary: boolean): Promise<void> {
    const sinks = this.topics.get(topic);
    if (sinks !== undefined) {
      for (const other of sinks) if (other !== sink) other.deliver(topic, data, isBinary);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.sinks.clear();
    this.topics.clear();
    this.histories.clear();
    return Promise.resolve();
  }

  // ---- SequencedBroker: durable topics, in memory ----

  append(sink: SequencedSink, topic: string, request: AppendRequest): Promise<Appended> {
    const { entry, ...appended } = this.history(topic).append(request, Date.now());
    if (entry !== null) {
      const message: SequencedMessage = { ...entry, epoch: appended.epoch };
      const sinks = this.topics.get(topic);
      if (sinks !== undefined) {
        for (const other of [...sinks]) {
          const except = other === sink ? request.except : undefined;
          (other as SequencedSink).deliverSequenced?.(topic, message, except);
        }
      }
    }
    return Promise.resolve(appended);
  }

  read(topic: string, after: number, retention: Retention): Promise<HistoryRange> {
    const range = this.history(topic).read(after, retention, Date.now());
    if (!this.topics.has(topic)) this.forget(topic);
    return Promise.resolve(range);
  }

  whenSubscribed(_topic: string): Promise<void> {
    return Promise.resolve();
  }

  join(_sink: SequencedSink, topic: string, member: PresenceMember): Promise<void> {
    this.history(topic).members.set(member.client, member);
    this.presence(topic, 'join', member);
    return Promise.resolve();
  }

  leave(_sink: SequencedSink, topic: string, member: PresenceMember): Promise<void> {
    const history = this.histories.get(topic);
    if (history?.members.delete(member.client)) this.presence(topic, 'leave', member);
    if (!this.topics.has(topic)) this.forget(topic);
    return Promise.resolve();
  }

  members(topic: string): Promise<PresenceMember[]> {
    return Promise.resolve([...(this.histories.get(topic)?.members.values() ?? [])]);
  }

  /**
   * Drops the state of a topic nobody listens to that holds nothing (so that topics used once do not
   * stay in memory); used again, it starts a new epoch.
   */
  private forget(topic: string): void {
    if (this.histories.get(topic)?.discardable(Date.now())) this.histories.delete(topic);
  }

  private history(topic: string): TopicHistory {
    let history = this.histories.get(topic);
    if (history === undefined) this.histories.set(topic, (history = new TopicHistory()));
    return history;
  }

  private presence(topic: string, change: PresenceChange, member: PresenceMember): void {
    const sinks = this.topics.get(topic);
    if (sinks === undefined) return;
    for (const sink of [...sinks]) (sink as SequencedSink).presenceChanged?.(topic, change, member);
  }
}
