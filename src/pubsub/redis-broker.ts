/**
 * RedisBroker: topics across processes and machines, through Redis Pub/Sub (PUBLISH / SUBSCRIBE).
 *
 * Why Pub/Sub, and not sharded Pub/Sub or Streams, for plain topics: a published message is pushed at once to the
 * subscribed connections and forgotten. That is the lowest latency Redis offers and it costs Redis no
 * memory, and it is the guarantee WebSocket fan-out has anyway: at most once, no replay to a client
 * that was not connected. Streams (XADD / XREAD) would add persistence and replay at the price of
 * polling, trimming and memory, for plain subscribers, which cannot resume a topic anyway (durable
 * topics, whose clients resume, keep their history in a Stream: durable/redis-history.ts). Sharded Pub/Sub
 * (SPUBLISH, Redis 7) only pays off on a Redis Cluster; classic Pub/Sub works with any Redis, a
 * replica set behind Sentinel, and managed services.
 *
 * The cost on Redis is one subscription per topic per process, never per client: the broker counts the
 * servers ("sinks") of its process subscribed to a topic, SUBSCRIBEs on the first and UNSUBSCRIBEs
 * after the last. Servers of one process sharing the broker get each other's messages directly, as
 * with InMemoryBroker; messages coming back from Redis carry the publishing broker's random id and a
 * broker skips its own.
 *
 * When Redis goes away, local delivery goes on, publish() rejects at once with
 * WS_ERR_BROKER_UNAVAILABLE (the publisher client does not queue commands), and every server gets a
 * 'brokerError'. ioredis reconnects with backoff; on each reconnection the broker subscribes to every
 * topic it has (rather than ioredis's autoResubscribe: topics subscribed during the outage would wait
 * in its offline queue, which is flushed with an error after maxRetriesPerRequest attempts).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { argumentError, createError, WebSocketError } from '../protocol/errors.js';
import type { BrokerSink } from './broker.js';
import { RedisHistory } from './durable/redis-history.js';
import { ExceptTags, RedisPresence } from './durable/redis-presence.js';
import { prefixProblem } from './durable/redis-scripts.js';
import type {
  Appended,
  AppendRequest,
  HistoryRange,
  PresenceMember,
  Retention,
  SequencedBroker,
  SequencedSink,
} from './durable/sequenced.js';
import {
  DEFAULT_REDIS_URL,
  loadIoredis,
  PUBLISHER_DEFAULTS,
  type RedisClient,
  redact,
  SUBSCRIBER_DEFAULTS,
} from './redis-client.js';
import {
  decodeEnvelope,
  decodeSequenced,
  encodeEnvelope,
  KIND_JOIN,
  KIND_MESSAGE,
  ORIGIN_LENGTH,
  SEQUENCED_VERSION,
} from './redis-envelope.js';

export interface RedisBrokerOptions {
  /**
   * Where Redis is, for the clients the broker creates: `redis://[[user]:password@]host[:port][/db]`,
   * or `rediss://` for TLS. Default `redis://127.0.0.1:6379`.
   */
  url?: string;
  /**
   * A client of yours to PUBLISH with; close() leaves it open. For publish() to fail fast during an
   * outage, create it with `{ enableOfflineQueue: false, maxRetriesPerRequest: 0 }`. Default: the
   * broker creates one (a duplicate of `subscriber` if that is given).
   */
  publisher?: RedisClient;
  /**
   * A client of yours dedicated to this broker's subscriptions (it enters subscriber mode; it cannot
   * be the publisher); close() unsubscribes the broker's channels and leaves it open. Default: the
   * broker creates one (a duplicate of `publisher` if that is given).
   */
  subscriber?: RedisClient;
  /**
   * Put before each topic to make its channel name (and durable topics' keys), so that applications
   * can share a Redis. A `{` in it must be closed after at least one character (a Redis Cluster hash
   * tag, such as `{app}:`). Default 'wskit:'.
   */
  prefix?: string;
  /** ioredis options for the clients the broker creates, over the broker's (see docs/pubsub.md). */
  redisOptions?: Record<string, unknown>;
  /**
   * Durable topics' presence: milliseconds an entry lives unless its process renews it (every third
   * of this). A crashed process's members leave that long after its last renewal. Default 15,000.
   */
  presenceTtl?: number;
}

export const DEFAULT_PREFIX = 'wskit:';
export const DEFAULT_PRESENCE_TTL = 15_000;

/** Channels per SUBSCRIBE command when resubscribing everything. */
const SUBSCRIBE_BATCH = 1000;

type State = 'connecting' | 'up' | 'down' | 'closed';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A broker that connects the servers of every process using the same Redis (and prefix). Events:
 * 'ready' (connected, every topic subscribed: each time Redis comes back), 'unavailable' (error: Redis
 * went away; the servers get the same error as 'brokerError').
 */
export class RedisBroker extends EventEmitter implements SequencedBroker {
  readonly prefix: string;
  private readonly prefixLength: number;
  private readonly where: string;
  /** Sent with every message, to skip our own when Redis hands them back. */
  private readonly origin = randomBytes(ORIGIN_LENGTH);
  private readonly sinks = new Set<BrokerSink>();
  private readonly topics = new Map<string, Set<BrokerSink>>();
  private publisher: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
  private readonly owned = new Set<RedisClient>();
  private readonly started: Promise<void>;
  /** Set when the broker cannot work at all (ioredis is not installed). */
  private failure: WebSocketError | null = null;
  private state: State = 'connecting';
  private lastError: Error | null = null;
  /** The current outage, reported to servers that attach during it. */
  private outage: WebSocketError | null = null;
  /** SUBSCRIBE and UNSUBSCRIBE commands sent and not answered yet. */
  private pending = 0;
  /** Counts the subscriber's connections, to ignore answers from an earlier one. */
  private epoch = 0;
  private resubscribing = false;
  private waiters: Waiter[] = [];
  private closing: Promise<void> | null = null;
  // Durable topics (SequencedBroker).
  private readonly history: RedisHistory;
  readonly presenceTtl: number;
  /** Topics whose SUBSCRIBE Redis acknowledged on the current subscriber connection. */
  private readonly confirmed = new Set<string>();
  private topicWaiters = new Map<string, Waiter[]>();
  /** `except` of this broker's appends, by the tag their message comes back with. */
  private readonly excepts = new ExceptTags();
  /** This process's presence members, renewed in Redis every presenceTtl / 3. */
  private readonly presence: RedisPresence;

  constructor(options: RedisBrokerOptions = {}) {
    super();
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string')
      throw argumentError(`Option prefix must be a string; got ${String(prefix)}`);
    const problem = prefixProblem(prefix);
    if (problem !== null) throw argumentError(problem);
    if (options.publisher !== undefined && options.publisher === options.subscriber) {
      throw argumentError(
        'Options publisher and subscriber must be two clients: a subscriber cannot publish',
      );
    }
    this.prefix = prefix;
    this.prefixLength = Buffer.byteLength(prefix);
    const ttl = options.presenceTtl ?? DEFAULT_PRESENCE_TTL;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 30) {
      throw argumentError(`Option presenceTtl must be a number of milliseconds ≥ 30; got ${String(ttl)}`);
    }
    this.presenceTtl = ttl;
    this.history = new RedisHistory(prefix, this.origin);
    this.presence = new RedisPresence(this.history, ttl);
    this.presence.publisherOf = () => this.readyPublisher();
    const given = options.publisher !== undefined || options.subscriber !== undefined;
    this.where = given ? 'Redis' : `Redis at ${redact(options.url ?? DEFAULT_REDIS_URL)}`;
    this.started = this.start(options).catch((err: unknown) => this.fail(err));
  }

  /**
   * Resolves once connected to Redis with every topic subscribed so far, so that messages published
   * from other processes arrive. Waits through outages; rejects if the broker is closed or cannot work.
   */
  ready(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.state === 'closed') return Promise.reject(closedError());
    if (this.state === 'up' && this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Connected to Redis, every topic subscribed. */
  get connected(): boolean {
    return this.state === 'up';
  }

  attach(sink: BrokerSink): void {
    this.sinks.add(sink);
    const problem = this.failure ?? this.outage;
    if (problem !== null) queueMicrotask(() => sink.brokerError(problem));
  }

  detach(sink: BrokerSink): void {
    this.sinks.delete(sink);
    for (const [topic, sinks] of this.topics) if (sinks.has(sink)) this.unsubscribe(sink, topic);
  }

  subscribe(sink: BrokerSink, topic: string): void {
    const sinks = this.topics.get(topic);
    if (sinks !== undefined) {
      sinks.add(sink);
      return;
    }
    this.topics.set(topic, new Set([sink]));
    this.command('subscribe', topic);
  }

  unsubscribe(sink: BrokerSink, topic: string): void {
    const sinks = this.topics.get(topic);
    if (sinks === undefined || !sinks.delete(sink) || sinks.size > 0) return;
    this.topics.delete(topic);
    this.confirmed.delete(topic);
    this.command('unsubscribe', topic);
  }

  publish(sink: BrokerSink, topic: string, data: Buffer, isBinary: boolean): Promise<void> {
    const sinks = this.topics.get(topic);
    if (sinks !== undefined) {
      for (const other of sinks) if (other !== sink) deliver(other, topic, data, isBinary);
    }
    return this.send(topic, data, isBinary);
  }

  // ---- SequencedBroker: durable topics in Redis (docs/pubsub.md#durable-topics) ----

  append(sink: SequencedSink, topic: string, request: AppendRequest): Promise<Appended> {
    const publisher = this.usable(`storing a message on ${describeTopic(topic)} failed`);
    if (publisher instanceof Error) return Promise.reject(publisher);
    void sink;
    const tag = this.excepts.add(request.except);
    return this.history.append(publisher, topic, request, tag).catch((err: Error) => {
      this.excepts.take(tag);
      throw this.unavailable(`storing a message on ${describeTopic(topic)} failed`, err, 'Nobody got it');
    });
  }

  read(topic: string, after: number, retention: Retention): Promise<HistoryRange> {
    const publisher = this.usable(`reading the history of ${describeTopic(topic)} failed`);
    if (publisher instanceof Error) return Promise.reject(publisher);
    return this.history.read(publisher, topic, after, retention).catch((err: Error) => {
      throw this.unavailable(`reading the history of ${describeTopic(topic)} failed`, err, '');
    });
  }

  whenSubscribed(topic: string): Promise<void> {
    if (this.confirmed.has(topic)) return Promise.resolve();
    const problem = this.failure ?? (this.state === 'closed' ? closedError() : this.outage);
    if (problem !== null) return Promise.reject(problem);
    return new Promise((resolve, reject) => {
      let waiters = this.topicWaiters.get(topic);
      if (waiters === undefined) this.topicWaiters.set(topic, (waiters = []));
      waiters.push({ resolve, reject });
    });
  }

  join(_sink: SequencedSink, topic: string, member: PresenceMember): Promise<void> {
    return this.presence.join(this.readyPublisher(), topic, member);
  }

  leave(_sink: SequencedSink, topic: string, member: PresenceMember): Promise<void> {
    return this.presence.leave(this.readyPublisher(), topic, member);
  }

  members(topic: string): Promise<PresenceMember[]> {
    const publisher = this.usable(`reading the presence of ${describeTopic(topic)} failed`);
    if (publisher instanceof Error) return Promise.reject(publisher);
    return this.history.members(publisher, topic);
  }

  private readyPublisher(): RedisClient | null {
    const publisher = this.publisher;
    return publisher !== null && publisher.status === 'ready' && this.state !== 'closed' ? publisher : null;
  }

  /** The publisher, when commands can be sent; else the error to give. */
  private usable(what: string): RedisClient | WebSocketError {
    if (this.failure !== null) return this.failure;
    if (this.state === 'closed') return closedError();
    const publisher = this.publisher;
    if (publisher === null || publisher.status !== 'ready') {
      return this.unavailable(what, this.lastError, 'not connected');
    }
    return publisher;
  }

  private confirm(topics: string[]): void {
    for (const topic of topics) {
      this.confirmed.add(topic);
      const waiters = this.topicWaiters.get(topic);
      if (waiters === undefined) continue;
      this.topicWaiters.delete(topic);
      for (const w of waiters) w.resolve();
    }
  }

  private settleTopics(error: Error): void {
    const all = this.topicWaiters;
    this.topicWaiters = new Map();
    for (const waiters of all.values()) for (const w of waiters) w.reject(error);
  }

  /** A message (or presence change) of a durable topic, from Redis: every process delivers it from here. */
  private onSequenced(topic: string, sinks: Set<BrokerSink>, message: Buffer): void {
    const envelope = decodeSequenced(message);
    if (envelope === null) return;
    if (envelope.kind !== KIND_MESSAGE) {
      let member: PresenceMember;
      try {
        member = JSON.parse(envelope.data.toString()) as PresenceMember;
      } catch {
        return;
      }
      const change = envelope.kind === KIND_JOIN ? 'join' : 'leave';
      for (const sink of [...sinks]) {
        try {
          (sink as SequencedSink).presenceChanged?.(topic, change, member);
        } catch (err) {
          sink.brokerError(err as Error);
        }
      }
      return;
    }
    let except: object | undefined;
    if (envelope.origin.equals(this.origin)) except = this.excepts.take(envelope.tag);
    const sequenced = {
      offset: envelope.offset,
      epoch: envelope.epoch,
      data: envelope.data,
      isBinary: envelope.isBinary,
      noCompress: envelope.noCompress,
    };
    for (const sink of [...sinks]) {
      try {
        (sink as SequencedSink).deliverSequenced?.(topic, sequenced, except);
      } catch (err) {
        sink.brokerError(err as Error);
      }
    }
  }

  /** Quits the clients the broker created; unsubscribes the clients given to it. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.state = 'closed';
    this.settle(closedError());
    this.settleTopics(closedError());
    // Our members leave now rather than when their entries expire.
    await this.presence.close(this.publisher?.status === 'ready' ? this.publisher : null);
    await this.started;
    const channels = [...this.topics.keys()].map((topic) => this.prefix + topic);
    this.topics.clear();
    this.sinks.clear();
    const { publisher, subscriber } = this;
    if (publisher === null || subscriber === null) return;
    this.unlisten(publisher, subscriber);
    await Promise.all(
      [publisher, subscriber].map(async (client) => {
        if (this.owned.has(client)) {
          client.on('error', () => {}); // errors while closing are of no interest
          if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
          else client.disconnect();
        } else if (client === subscriber && channels.length > 0 && client.status === 'ready') {
          await client.unsubscribe(...channels).catch(() => {});
        }
      }),
    );
  }

  private async start(options: RedisBrokerOptions): Promise<void> {
    let { publisher, subscriber } = options;
    const extra = options.redisOptions ?? {};
    if (publisher !== undefined && subscriber === undefined) {
      subscriber = this.own(publisher.duplicate({ ...SUBSCRIBER_DEFAULTS, ...extra }));
    } else if (subscriber !== undefined && publisher === undefined) {
      publisher = this.own(subscriber.duplicate({ ...PUBLISHER_DEFAULTS, ...extra }));
    } else if (publisher === undefined || subscriber === undefined) {
      const Redis = await loadIoredis();
      if (this.state === 'closed') return;
      const url = options.url ?? DEFAULT_REDIS_URL;
      publisher = this.own(new Redis(url, { ...PUBLISHER_DEFAULTS, ...extra }));
      subscriber = this.own(new Redis(url, { ...SUBSCRIBER_DEFAULTS, ...extra }));
    }
    this.publisher = publisher;
    this.subscriber = subscriber;
    publisher.on('ready', this.onPublisherReady);
    subscriber.on('ready', this.onSubscriberReady);
    for (const client of [publisher, subscriber]) {
      client.on('error', this.onError);
      client.on('close', this.onClose);
      client.on('end', this.onClose);
      if (client.status === 'wait') client.connect().catch(() => {});
    }
    subscriber.on('messageBuffer', this.onMessage);
    if (subscriber.status === 'ready') this.resubscribe(subscriber);
    else this.update();
  }

  private own(client: RedisClient): RedisClient {
    this.owned.add(client);
    return client;
  }

  private unlisten(publisher: RedisClient, subscriber: RedisClient): void {
    publisher.off('ready', this.onPublisherReady);
    subscriber.off('ready', this.onSubscriberReady);
    for (const client of [publisher, subscriber]) {
      client.off('error', this.onError);
      client.off('close', this.onClose);
      client.off('end', this.onClose);
    }
    subscriber.off('messageBuffer', this.onMessage);
  }

  private fail(err: unknown): void {
    this.failure =
      err instanceof WebSocketError
        ? err
        : createError('WS_ERR_BROKER_UNAVAILABLE', `RedisBroker could not start: ${String(err)}`, {
            cause: err,
          });
    this.settle(this.failure);
    for (const sink of this.sinks) sink.brokerError(this.failure);
  }

  private readonly onPublisherReady = (): void => this.update();

  /** A new connection: Redis knows none of the broker's channels on it. */
  private readonly onSubscriberReady = (): void => {
    if (this.subscriber !== null && this.subscriber.status === 'ready') this.resubscribe(this.subscriber);
  };

  private readonly onError = (err: Error): void => {
    this.lastError = err;
    this.update();
  };

  private readonly onClose = (): void => this.update();

  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const topic = channel.toString('utf8', this.prefixLength);
    const sinks = this.topics.get(topic);
    if (sinks === undefined) return; // unsubscribed since
    if (message[0] === SEQUENCED_VERSION) {
      this.onSequenced(topic, sinks, message);
      return;
    }
    const envelope = decodeEnvelope(message);
    if (envelope === null) {
      const error = createError(
        'WS_ERR_BROKER_UNAVAILABLE',
        `Ignored a message on Redis channel ${JSON.stringify(channel.toString())} that wskit did not publish (or a newer wskit did)`,
      );
      for (const sink of sinks) sink.brokerError(error);
      return;
    }
    if (envelope.origin.equals(this.origin)) return; // delivered locally when published
    for (const sink of sinks) deliver(sink, topic, envelope.data, envelope.isBinary);
  };

  private resubscribe(subscriber: RedisClient): void {
    const epoch = ++this.epoch;
    const topics = [...this.topics.keys()];
    const channels = topics.map((topic) => this.prefix + topic);
    this.resubscribing = true;
    this.confirmed.clear();
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
      const batch = topics.slice(i, i + SUBSCRIBE_BATCH);
      batches.push(
        subscriber.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH)).then(() => {
          if (epoch === this.epoch) this.confirm(batch.filter((topic) => this.topics.has(topic)));
        }),
      );
    }
    Promise.all(batches).then(
      () => {
        if (epoch !== this.epoch) return;
        this.resubscribing = false;
        this.update();
      },
      (err: Error) => {
        if (epoch !== this.epoch) return;
        this.resubscribing = false;
        this.lastError = err;
        // Lost the connection again: the next 'ready' starts over. Else Redis refused (ACL...): say so.
        if (subscriber.status === 'ready') this.report(this.unavailable('could not subscribe', err, ''));
        this.update();
      },
    );
  }

  private command(name: 'subscribe' | 'unsubscribe', topic: string): void {
    const subscriber = this.subscriber;
    // Not connected: the next 'ready' subscribes to the topics there are then. (While resubscribing,
    // this command follows the SUBSCRIBE of all the others on the connection: the order holds.)
    if (subscriber === null || subscriber.status !== 'ready' || this.state === 'closed') return;
    const epoch = this.epoch;
    this.pending++;
    subscriber[name](this.prefix + topic)
      .then(() => {
        if (epoch === this.epoch && name === 'subscribe' && this.topics.has(topic)) this.confirm([topic]);
      })
      .catch((err: Error) => {
        if (epoch !== this.epoch || subscriber.status !== 'ready') return; // the connection dropped
        const sinks = this.topics.get(topic);
        if (name === 'subscribe' && sinks !== undefined) {
          const error = this.unavailable(`could not subscribe to ${describeTopic(topic)}`, err, '');
          for (const sink of sinks) sink.brokerError(error);
        }
      })
      .finally(() => {
        this.pending--;
        this.update();
      });
  }

  private send(topic: string, data: Buffer, isBinary: boolean): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.state === 'closed') return Promise.reject(closedError());
    const publisher = this.publisher;
    if (publisher === null) return this.started.then(() => this.send(topic, data, isBinary)); // loading ioredis
    const only = `The message on ${describeTopic(topic)} reached this process's subscribers only`;
    if (publisher.status !== 'ready') {
      return Promise.reject(this.unavailable('not connected', this.lastError, only));
    }
    return publisher.publish(this.prefix + topic, encodeEnvelope(this.origin, data, isBinary)).then(
      () => {},
      (err: Error) => {
        throw this.unavailable('publishing failed', err, only);
      },
    );
  }

  /** Follows the clients' status: reports the start of an outage once, and the return. */
  private update(): void {
    if (this.state === 'closed' || this.publisher === null || this.subscriber === null) return;
    const up = this.publisher.status === 'ready' && this.subscriber.status === 'ready' && !this.resubscribing;
    if (up) {
      if (this.state !== 'up') {
        const resumed = this.state === 'down';
        this.state = 'up';
        this.lastError = null;
        this.outage = null;
        this.emit('ready');
        this.presence.renew(this.readyPublisher());
        if (resumed) {
          for (const sink of this.sinks) (sink as SequencedSink).sequencedResumed?.();
        }
      }
      if (this.pending === 0) this.settle(null);
      return;
    }
    const lost = this.state === 'up';
    const neverConnected = this.state === 'connecting' && this.lastError !== null;
    if (!lost && !neverConnected) return;
    this.state = 'down';
    this.confirmed.clear();
    this.outage = this.unavailable(
      lost ? 'lost the connection' : 'cannot connect',
      this.lastError,
      "Reconnecting; until then, messages reach this process's subscribers only",
    );
    this.report(this.outage);
    this.settleTopics(this.outage);
  }

  private report(error: WebSocketError): void {
    this.emit('unavailable', error);
    for (const sink of this.sinks) sink.brokerError(error);
  }

  /** "Redis at URL: WHAT (CAUSE). CONSEQUENCE" */
  private unavailable(what: string, cause: Error | null, consequence: string): WebSocketError {
    const why = cause === null || cause.message === '' ? '' : ` (${cause.message})`;
    const then = consequence === '' ? '' : `. ${consequence}`;
    return createError('WS_ERR_BROKER_UNAVAILABLE', `${this.where}: ${what}${why}${then}`, {
      cause: cause ?? undefined,
    });
  }

  /** Resolves the ready() waiters, or rejects them with `error`. */
  private settle(error: Error | null): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (error === null) w.resolve();
      else w.reject(error);
    }
  }
}

/** A delivery that throws must not stop the others, nor reach ioredis's parser. */
function deliver(sink: BrokerSink, topic: string, data: Buffer, isBinary: boolean): void {
  try {
    sink.deliver(topic, data, isBinary);
  } catch (err) {
    sink.brokerError(err as Error);
  }
}

function closedError(): WebSocketError {
  return createError('WS_ERR_BROKER_UNAVAILABLE', 'The RedisBroker is closed');
}

/** broadcast() travels on a topic of its own, whose name starts with NUL. */
function describeTopic(topic: string): string {
  return topic.charCodeAt(0) === 0 ? 'broadcast()' : `topic ${JSON.stringify(topic)}`;
}
