import type { Subscriptions } from '../node/connection/owner.js';
import type { SharedCompression, Subscriber } from '../node/connection/publish-target.js';
import type { SendData } from '../node/connection/send-data.js';
import { Opcode } from '../protocol/constants.js';
import { WebSocketError } from '../protocol/errors.js';
import { serializeFrame } from '../protocol/frame-serializer.js';
import { type Broker, InMemoryBroker } from './broker.js';
import { type DurableOptions, type DurablePublished, DurableTopics } from './durable/durable-topics.js';
import type { PresenceChange, PresenceMember, SequencedMessage, SequencedSink } from './durable/sequenced.js';
import { normalize } from './publish-payload.js';
import { checkTopic, TopicRegistry } from './topic-registry.js';

/** The topic under which broadcast() travels between servers; user topics cannot start with NUL. */
const BROADCAST_TOPIC = '\u0000broadcast';

export type BackpressurePolicy = 'drop' | 'close';

export interface TopicsOptions {
  /** Connects this server's topics with other servers'; default: a broker of its own (this server only). */
  broker?: Broker;
  /**
   * A subscriber with more than this many bytes waiting to be sent does not get published messages:
   * they are dropped for it (and counted), or it is closed with 1008 (`backpressurePolicy`). Default 1 MiB.
   */
  maxBackpressure?: number;
  /** What happens to a subscriber over maxBackpressure: 'drop' (default) or 'close' (1008). */
  backpressurePolicy?: BackpressurePolicy;
  /**
   * Durable topics: history, offsets, resume and presence, and the wskit.topics.v1 protocol
   * (docs/pubsub.md#durable-topics). `true` for the defaults. Default: off (topics are at most once).
   */
  durable?: DurableOptions | boolean;
}

export interface PublishOptions {
  /** Send as binary (default: true for anything but a string). */
  binary?: boolean;
  /** Compress for subscribers that negotiated permessage-deflate (default true; threshold applies). */
  compress?: boolean;
  /** A connection not to send to (typically the one the message came from). */
  except?: object;
}

/** What the server hands the topics: all its connections and a way to report broker errors. */
export interface TopicsOwner {
  /** Every open connection (whatever clientTracking says): broadcast() goes to them. */
  readonly connectionsForTopics: Iterable<Subscriber>;
  emit(event: 'brokerError', error: Error): boolean;
}

export const DEFAULT_MAX_BACKPRESSURE = 1024 * 1024;

/**
 * The topics of one server: who is subscribed to what, publishing with each message framed (and
 * compressed) once for all its subscribers, the slow-consumer policy, and the link to a broker for
 * subscribers on other servers.
 */
export class Topics implements SequencedSink, Subscriptions {
  private readonly owner: TopicsOwner;
  private readonly registry = new TopicRegistry<Subscriber>();
  readonly broker: Broker;
  private readonly ownBroker: boolean;
  /** @internal */
  readonly maxBackpressure: number;
  private readonly policy: BackpressurePolicy;
  /** Published messages dropped for subscribers over maxBackpressure. */
  dropped = 0;
  /** Durable topics, when the server has them. */
  readonly durable: DurableTopics | null;
  /** Topics the broker must stay subscribed to for wskit.topics.v1 subscribers (count per topic). */
  private readonly holds = new Map<string, number>();

  constructor(owner: TopicsOwner, options: TopicsOptions) {
    this.owner = owner;
    this.ownBroker = options.broker === undefined;
    this.broker = options.broker ?? new InMemoryBroker();
    const max = options.maxBackpressure ?? DEFAULT_MAX_BACKPRESSURE;
    if (typeof max !== 'number' || !(max >= 0)) {
      throw new WebSocketError(
        'WS_ERR_INVALID_ARGUMENT',
        `Option maxBackpressure must be a number ≥ 0; got ${String(max)}`,
      );
    }
    const policy = options.backpressurePolicy ?? 'drop';
    if (policy !== 'drop' && policy !== 'close') {
      throw new WebSocketError(
        'WS_ERR_INVALID_ARGUMENT',
        `Option backpressurePolicy must be 'drop' or 'close'; got ${String(policy)}`,
      );
    }
    this.maxBackpressure = max;
    this.policy = policy;
    const durable = options.durable ?? false;
    this.durable = durable === false ? null : new DurableTopics(this, durable === true ? {} : durable);
    this.broker.attach(this);
    this.broker.subscribe(this, BROADCAST_TOPIC);
  }

  /** @internal Counted with the dropped messages: it was not sent at once (it will be, from the history). */
  countLagging(): void {
    this.dropped++;
  }

  /** @internal A wskit.topics.v1 subscriber: the broker must deliver `topic` to this server. */
  hold(topic: string): void {
    const n = this.holds.get(topic) ?? 0;
    this.holds.set(topic, n + 1);
    if (n === 0 && this.registry.count(topic) === 0) this.broker.subscribe(this, topic);
  }

  /** @internal */
  unhold(topic: string): void {
    const n = this.holds.get(topic) ?? 0;
    if (n > 1) {
      this.holds.set(topic, n - 1);
      return;
    }
    this.holds.delete(topic);
    if (n === 1 && this.registry.count(topic) === 0) this.broker.unsubscribe(this, topic);
  }

  subscribe(ws: Subscriber, topic: string): void {
    checkTopic(topic);
    if (topic.charCodeAt(0) === 0)
      throw new WebSocketError('WS_ERR_INVALID_ARGUMENT', 'Topics cannot start with NUL');
    if (this.registry.subscribe(ws, topic) && !this.holds.has(topic)) this.broker.subscribe(this, topic);
  }

  unsubscribe(ws: Subscriber, topic: string): boolean {
    checkTopic(topic);
    const wasSubscribed = this.registry.isSubscribed(ws, topic);
    if (this.registry.unsubscribe(ws, topic) && !this.holds.has(topic)) this.broker.unsubscribe(this, topic);
    return wasSubscribed;
  }

  isSubscribed(ws: Subscriber, topic: string): boolean {
    return this.registry.isSubscribed(ws, topic);
  }

  topicsOf(ws: Subscriber): string[] {
    return this.registry.topicsOf(ws);
  }

  /** A connection closed: it leaves all its topics. */
  remove(ws: Subscriber): void {
    for (const topic of this.registry.removeAll(ws)) {
      if (!this.holds.has(topic)) this.broker.unsubscribe(this, topic);
    }
  }

  count(topic: string): number {
    return this.registry.count(topic) + (this.durable?.count(topic) ?? 0);
  }

  /** Sends to this server's subscribers of `topic` and, through the broker, to other servers'. */
  publish(topic: string, data: SendData, options: PublishOptions = {}): number {
    checkTopic(topic);
    const { payload, isBinary } = normalize(data, options);
    if (this.durable !== null && this.durable.retentionOf(topic) !== null) {
      // Stored first, then delivered by the broker with its offset, to every server in one order.
      this.durable
        .publishPayload(topic, payload, isBinary, options)
        .catch((err: Error) => this.brokerError(err));
      return this.count(topic);
    }
    const delivered = this.fanOut(this.registry.subscribers(topic), payload, isBinary, options);
    this.broker.publish(this, topic, payload, isBinary).catch((err: Error) => this.brokerError(err));
    return delivered;
  }

  /** Sends to every client of this server and, through the broker, of the other servers. */
  broadcast(data: SendData, options: PublishOptions = {}): number {
    const { payload, isBinary } = normalize(data, options);
    const delivered = this.fanOut(this.owner.connectionsForTopics, payload, isBinary, options);
    this.broker
      .publish(this, BROADCAST_TOPIC, payload, isBinary)
      .catch((err: Error) => this.brokerError(err));
    return delivered;
  }

  /** BrokerSink: a message another server published. */
  deliver(topic: string, data: Buffer, isBinary: boolean): void {
    const targets =
      topic === BROADCAST_TOPIC ? this.owner.connectionsForTopics : this.registry.subscribers(topic);
    this.fanOut(targets, data, isBinary, {});
  }

  /** Publishes on a durable topic; resolves with the message's offset once it is stored. */
  publishDurable(
    topic: string,
    data: SendData,
    options: PublishOptions & { key?: string } = {},
  ): Promise<DurablePublished> {
    if (this.durable === null) {
      return Promise.reject(
        new WebSocketError(
          'WS_ERR_INVALID_STATE',
          'The server has no durable topics: give it the durable option',
        ),
      );
    }
    return this.durable.publish(topic, data, options);
  }

  /** SequencedSink: a message of a durable topic, with its offset, for both kinds of subscribers. */
  deliverSequenced(topic: string, message: SequencedMessage, except: object | undefined): void {
    this.fanOut(this.registry.subscribers(topic), message.data, message.isBinary, {
      except,
      compress: !message.noCompress,
    });
    this.durable?.deliver(topic, message);
  }

  /** SequencedSink */
  presenceChanged(topic: string, change: PresenceChange, member: PresenceMember): void {
    this.durable?.presenceChanged(topic, change, member);
  }

  /** SequencedSink */
  sequencedResumed(): void {
    this.durable?.resumed();
  }

  /** BrokerSink: reported as the server's 'brokerError' event; local delivery is not affected. */
  brokerError(error: Error): void {
    this.owner.emit('brokerError', error);
  }

  /** The server is closing: leave the broker (and close it if it was the server's own). */
  async close(): Promise<void> {
    this.broker.detach(this);
    if (this.ownBroker) await this.broker.close();
  }

  private fanOut(
    targets: Iterable<Subscriber> | undefined,
    payload: Buffer,
    isBinary: boolean,
    options: PublishOptions,
  ): number {
    if (targets === undefined) return 0;
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    const compress = options.compress !== false;
    let plain: Buffer | null = null;
    let compressed: Map<string, Buffer | Promise<Buffer>> | null = null;
    let delivered = 0;
    for (const ws of targets) {
      if (ws === options.except || ws.readyState !== 1) continue;
      if (ws.bufferedAmount > this.maxBackpressure) {
        this.dropped++;
        ws.countDropped();
        if (this.policy === 'close') {
          ws.overflow(
            `More than maxBackpressure (${this.maxBackpressure}) bytes were waiting: closed with 1008`,
          );
        }
        continue;
      }
      const codec = ws.compression;
      if (codec !== null && compress && payload.length >= codec.threshold) {
        const key = codec.sharedCompressionKey;
        if (key === null) {
          // Context takeover: this connection's compressed bytes are its own.
          ws.send(payload, { binary: isBinary });
        } else {
          let frame = compressed?.get(key);
          if (frame === undefined) {
            frame = compressOnce(codec, payload, opcode);
            (compressed ??= new Map()).set(key, frame);
          }
          ws.sendFramed(frame);
        }
      } else {
        plain ??= serializeFrame(payload, { opcode });
        ws.sendFramed(plain);
      }
      delivered++;
    }
    return delivered;
  }
}

/**
 * A message compressed and framed once for every subscriber with the same settings: at once when it
 * is small, on the thread pool (a promise each subscriber's queue waits for, in order) when it is large.
 */
function compressOnce(codec: SharedCompression, payload: Buffer, opcode: number): Buffer | Promise<Buffer> {
  let frame: Buffer | undefined;
  let failure: Error | null = null;
  let settle: ((error: Error | null, out?: Buffer) => void) | null = null;
  codec.compressShared(payload, (error, out) => {
    if (error === null) frame = serializeFrame(out!, { opcode, rsv1: true });
    else failure = error;
    settle?.(error, out);
  });
  if (frame !== undefined) return frame;
  if (failure !== null) return Promise.reject(failure);
  return new Promise<Buffer>((resolve, reject) => {
    settle = (error, out) =>
      error === null ? resolve(serializeFrame(out!, { opcode, rsv1: true })) : reject(error);
  });
}
