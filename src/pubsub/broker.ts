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
 * broker of its own, and its topics stay within it). Delivery is synchronous and in order.
 */
export class InMemoryBroker implements Broker {
  private readonly sinks = new Set<BrokerSink>();
  private readonly topics = new Map<string, Set<BrokerSink>>();

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
    if (sinks.size === 0) this.topics.delete(topic);
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
    return Promise.resolve();
  }
}
