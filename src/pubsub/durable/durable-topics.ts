/**
 * Durable topics on one server: the wskit.topics.v1 connections (TopicsSession), the retention of
 * each topic, the application's authorize() hook, and the server-side API (`server.durable`):
 * publish with an offset returned, read a topic's history, list its presence.
 *
 * The history, the offsets and the presence live in the broker (SequencedBroker): in memory for
 * the servers of one process, in Redis for many. Every message of a durable topic, whichever way it
 * was published, comes back from the broker with its offset, in offset order, and goes to both kinds
 * of subscribers: raw frames to the plain ones (ws.subscribe()), `message` objects to the
 * wskit.topics.v1 ones.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Subscriber } from '../../node/connection/publish-target.js';
import type { SendData } from '../../node/connection/send-data.js';
import { Opcode } from '../../protocol/constants.js';
import { argumentError, createError } from '../../protocol/errors.js';
import { serializeFrame } from '../../protocol/frame-serializer.js';
import type { Broker } from '../broker.js';
import { normalize } from '../publish-payload.js';
import { checkTopic, TopicRegistry } from '../topic-registry.js';
import { type PresenceListener, PresenceWatch } from './presence-watch.js';
import {
  type Appended,
  type AppendRequest,
  isSequencedBroker,
  type PresenceChange,
  type PresenceMember,
  type RetainedMessage,
  type Retention,
  type SequencedBroker,
  type SequencedMessage,
  type SequencedSink,
} from './sequenced.js';
import { TopicsSession } from './topics-session.js';
import { messageText, presenceText, TOPICS_PROTOCOL } from './topics-wire.js';

/** What an application may refuse a wskit.topics.v1 client: see DurableOptions.authorize. */
export type TopicAction = 'subscribe' | 'publish' | 'presence';

/** A topic's retention, as given in the options (missing fields take the defaults). */
export interface HistoryOptions {
  /** Most messages kept per topic. Default 1,000. */
  maxCount?: number;
  /** Milliseconds a message is kept. Default 3,600,000 (one hour). */
  maxAge?: number;
}

export interface DurableOptions {
  /**
   * The retention of every topic, or a function giving each topic's (null: the topic is not durable:
   * at most once, as without this option, and wskit.topics.v1 clients cannot subscribe to it).
   * Default: `{ maxCount: 1000, maxAge: 3_600_000 }` for every topic.
   */
  history?: HistoryOptions | ((topic: string) => HistoryOptions | null);
  /**
   * Called for each subscribe, publish and presence request of a wskit.topics.v1 client (a subscribe
   * with `presence` asks for 'subscribe' and 'presence'); false (or a promise of false) refuses it
   * with `forbidden`. Default: everything is allowed.
   */
  authorize?: (
    ws: TopicsConnection,
    req: IncomingMessage,
    action: TopicAction,
    topic: string,
  ) => boolean | Promise<boolean>;
  /** Most topics a wskit.topics.v1 connection may subscribe to. Default 100. */
  maxSubscriptions?: number;
  /** Most requests of a connection waiting for the broker; further ones get `rate_limited`. Default 64. */
  maxPendingRequests?: number;
}

/** A server-side connection as durable topics use it (a wskit WebSocket). */
export interface TopicsConnection extends Subscriber {
  readonly protocol: string;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: the listener type of Node's EventEmitter
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  once(event: string, listener: (...args: any[]) => void): unknown;
}

export interface DurablePublishOptions {
  /** Send as binary (default: true for anything but a string). */
  binary?: boolean;
  /** A key unique to this message: publishing it again while it is retained stores it once. */
  key?: string;
  /** Compress for plain subscribers with permessage-deflate (default true). */
  compress?: boolean;
  /** A connection of this server not to send to. */
  except?: object;
}

export interface DurablePublished {
  topic: string;
  offset: number;
  epoch: string;
  /** The key was that of a retained message: nothing was stored, `offset` is that message's. */
  duplicate: boolean;
}

export interface HistoryQuery {
  /** The messages after this offset of this epoch (default: the last `limit`). */
  since?: { offset: number; epoch: string };
  /** At most this many, the most recent (default: all retained). */
  limit?: number;
}

export interface TopicHistoryRead {
  topic: string;
  epoch: string;
  /** The topic's last offset. */
  offset: number;
  /** With `since`: whether every message after since.offset is in `messages`. */
  recovered: boolean;
  messages: RetainedMessage[];
}

/** What DurableTopics needs of the server's Topics. */
export interface DurableHost extends SequencedSink {
  readonly broker: Broker;
  /** Bytes buffered past which a subscriber is sent nothing for now. */
  readonly maxBackpressure: number;
  /** A message was held back from a slow wskit.topics.v1 subscriber (to be read from the history). */
  countLagging(): void;
  /** Keeps the broker subscribed to `topic` for a wskit.topics.v1 subscriber. */
  hold(topic: string): void;
  unhold(topic: string): void;
}

export const DEFAULT_HISTORY: Retention = { maxCount: 1000, maxAge: 3_600_000 };

function resolveRetention(options: HistoryOptions): Retention {
  const maxCount = options.maxCount ?? DEFAULT_HISTORY.maxCount;
  const maxAge = options.maxAge ?? DEFAULT_HISTORY.maxAge;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw argumentError(`history.maxCount must be an integer ≥ 0; got ${String(maxCount)}`);
  }
  if (typeof maxAge !== 'number' || !(maxAge >= 0)) {
    throw argumentError(`history.maxAge must be a number of milliseconds ≥ 0; got ${String(maxAge)}`);
  }
  return { maxCount, maxAge };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw argumentError(`Option durable.${name} must be an integer > 0; got ${String(value)}`);
  }
  return value;
}

export class DurableTopics {
  readonly broker: SequencedBroker;
  readonly sink: DurableHost;
  readonly maxSubscriptions: number;
  readonly maxPendingRequests: number;
  private readonly history: Retention | ((topic: string) => HistoryOptions | null);
  private readonly authorize: DurableOptions['authorize'];
  private readonly sessions = new TopicRegistry<TopicsSession>();
  private readonly byConnection = new Map<object, TopicsSession>();
  private readonly watches = new Map<string, Set<PresenceWatch>>();

  constructor(host: DurableHost, options: DurableOptions) {
    if (typeof options !== 'object' || options === null) {
      throw argumentError('Option durable must be an object (or true)');
    }
    const broker = host.broker;
    if (!isSequencedBroker(broker)) {
      throw createError(
        'WS_ERR_INVALID_ARGUMENT',
        'Option durable needs a broker that keeps history (InMemoryBroker or RedisBroker); this one does not implement SequencedBroker',
      );
    }
    this.broker = broker;
    this.sink = host;
    const history = options.history ?? {};
    this.history = typeof history === 'function' ? history : resolveRetention(history);
    if (options.authorize !== undefined && typeof options.authorize !== 'function') {
      throw argumentError('Option durable.authorize must be a function');
    }
    this.authorize = options.authorize;
    this.maxSubscriptions = positiveInteger('maxSubscriptions', options.maxSubscriptions, 100);
    this.maxPendingRequests = positiveInteger('maxPendingRequests', options.maxPendingRequests, 64);
  }

  /** The retention of `topic`, or null when it is not durable. */
  retentionOf(topic: string): Retention | null {
    const history = this.history;
    if (typeof history !== 'function') return history;
    const options = history(topic);
    return options === null || options === undefined ? null : resolveRetention(options);
  }

  /** A new connection: it is served here if it chose wskit.topics.v1. */
  accept(ws: TopicsConnection, req: IncomingMessage): void {
    if (ws.protocol !== TOPICS_PROTOCOL) return;
    const session = new TopicsSession(this, ws, req);
    this.byConnection.set(ws, session);
    ws.once('close', () => this.byConnection.delete(ws));
  }

  /** The name a wskit.topics.v1 connection has in presence (undefined for other connections). */
  clientId(ws: object): string | undefined {
    return this.byConnection.get(ws)?.client;
  }

  /** The topics a wskit.topics.v1 connection is subscribed to. */
  topicsOf(ws: object): string[] {
    return this.byConnection.get(ws)?.topics ?? [];
  }

  /** How many of this server's wskit.topics.v1 connections are subscribed to `topic`. */
  count(topic: string): number {
    return this.sessions.count(topic);
  }

  /** @internal */
  async allowed(session: TopicsSession, action: TopicAction, topic: string): Promise<boolean> {
    if (this.authorize === undefined) return true;
    try {
      return (await this.authorize(session.ws, session.req, action, topic)) === true;
    } catch (err) {
      // A hook that throws refuses (and the server hears of it): it never opens a topic by mistake.
      this.sink.brokerError(err as Error);
      return false;
    }
  }

  /** @internal */
  addSession(topic: string, session: TopicsSession): void {
    this.sessions.subscribe(session, topic);
    this.sink.hold(topic);
  }

  /** @internal */
  removeSession(topic: string, session: TopicsSession): void {
    if (!this.sessions.isSubscribed(session, topic)) return;
    this.sessions.unsubscribe(session, topic);
    this.sink.unhold(topic);
  }

  /** @internal */
  append(topic: string, request: AppendRequest): Promise<Appended> {
    return this.broker.append(this.sink, topic, request);
  }

  /** @internal */
  messageText(topic: string, m: RetainedMessage & { epoch: string }): string {
    return messageText(topic, m);
  }

  /**
   * Publishes on a durable topic: resolves once the message is stored, with its offset and epoch.
   * Every subscriber, plain or wskit.topics.v1, on every server sharing the broker, gets it in offset
   * order. Rejects with WS_ERR_BROKER_UNAVAILABLE when the broker cannot store it, and with
   * WS_ERR_INVALID_ARGUMENT for a topic that is not durable.
   */
  publish(topic: string, data: SendData, options: DurablePublishOptions = {}): Promise<DurablePublished> {
    let message: { payload: Buffer; isBinary: boolean };
    try {
      checkTopic(topic);
      message = normalize(data, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.publishPayload(topic, message.payload, message.isBinary, options);
  }

  /** @internal publish() with the message as bytes already. */
  async publishPayload(
    topic: string,
    data: Buffer,
    isBinary: boolean,
    options: DurablePublishOptions,
  ): Promise<DurablePublished> {
    if (topic.charCodeAt(0) === 0) throw argumentError('Topics cannot start with NUL');
    const retention = this.retentionOf(topic);
    if (retention === null)
      throw argumentError(`Topic ${JSON.stringify(topic)} is not durable (history gave null)`);
    const key = options.key;
    if (key !== undefined && (typeof key !== 'string' || key.length > 64)) {
      throw argumentError('Option key must be a string of at most 64 characters');
    }
    const appended = await this.append(topic, {
      data,
      isBinary,
      key,
      noCompress: options.compress === false,
      except: options.except,
      retention,
    });
    return { topic, ...appended };
  }

  /** Reads a durable topic's retained history. */
  async read(topic: string, query: HistoryQuery = {}): Promise<TopicHistoryRead> {
    checkTopic(topic);
    const retention = this.retentionOf(topic);
    if (retention === null)
      throw argumentError(`Topic ${JSON.stringify(topic)} is not durable (history gave null)`);
    const since = query.since;
    const range = await this.broker.read(topic, since?.offset ?? 0, retention);
    let messages = range.messages;
    let recovered = false;
    if (since !== undefined) {
      if (since.epoch !== range.epoch || since.offset > range.last) messages = [];
      else recovered = since.offset + 1 >= range.first;
    }
    if (query.limit !== undefined) messages = query.limit <= 0 ? [] : messages.slice(-query.limit);
    return { topic, epoch: range.epoch, offset: range.last, recovered, messages };
  }

  /** The members of a topic's presence, on every server sharing the broker. */
  presence(topic: string): Promise<PresenceMember[]> {
    checkTopic(topic);
    return this.broker.members(topic);
  }

  /**
   * Adds a member of the server's own (someone who is no wskit.topics.v1 connection: a user of the
   * application's own protocol) to the presence of a durable topic: a `join` for every watcher and
   * every member subscriber, on every server. `member.client` names it: unique (a random UUID), a
   * non-empty string of at most 64 characters. With Redis, this process renews the entry until
   * leave(): if the process dies, it expires `presenceTtl` later (a `leave` for everyone).
   */
  join(topic: string, member: PresenceMember): Promise<void> {
    try {
      this.checkMember(topic, member);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.broker.join(this.sink, topic, { client: member.client, info: member.info });
  }

  /** Removes a member added with join() (a `leave` for everyone). */
  leave(topic: string, member: PresenceMember): Promise<void> {
    try {
      this.checkMember(topic, member);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.broker.leave(this.sink, topic, { client: member.client, info: member.info });
  }

  /**
   * Watches the presence of a durable topic on every server: `listener` hears a `join` for each
   * member there is once the list is read (`ready`), then each change, until close(). Its `members`
   * are the members now. It costs one broker subscription to the topic per server, and deltas only.
   */
  watchPresence(topic: string, listener: PresenceListener): PresenceWatch {
    checkTopic(topic);
    if (this.retentionOf(topic) === null)
      throw argumentError(`Topic ${JSON.stringify(topic)} is not durable (history gave null)`);
    if (typeof listener !== 'function') throw argumentError('watchPresence() needs a listener function');
    this.sink.hold(topic);
    const watch = new PresenceWatch(topic, this.presenceSource, listener);
    let watches = this.watches.get(topic);
    if (watches === undefined) this.watches.set(topic, (watches = new Set()));
    watches.add(watch);
    return watch;
  }

  private readonly presenceSource = {
    readMembers: async (topic: string): Promise<PresenceMember[]> => {
      await this.broker.whenSubscribed(topic);
      return this.broker.members(topic);
    },
    unwatch: (watch: PresenceWatch): void => {
      const watches = this.watches.get(watch.topic);
      if (watches === undefined || !watches.delete(watch)) return;
      if (watches.size === 0) this.watches.delete(watch.topic);
      this.sink.unhold(watch.topic);
    },
    readFailed: (error: Error): void => this.sink.brokerError(error),
  };

  private checkMember(topic: string, member: PresenceMember): void {
    checkTopic(topic);
    if (this.retentionOf(topic) === null)
      throw argumentError(`Topic ${JSON.stringify(topic)} is not durable (history gave null)`);
    const client = (member as Partial<PresenceMember> | null)?.client;
    if (typeof client !== 'string' || client.length === 0 || client.length > 64) {
      throw argumentError('A presence member needs a client: a string of 1 to 64 characters');
    }
  }

  /** @internal A message of a durable topic, for the wskit.topics.v1 subscribers of this server. */
  deliver(topic: string, m: SequencedMessage): void {
    const sessions = this.sessions.subscribers(topic);
    if (sessions === undefined) return;
    let frame: Buffer | null = null;
    const framed = () => {
      frame ??= serializeFrame(Buffer.from(messageText(topic, m)), { opcode: Opcode.Text });
      return frame;
    };
    for (const session of [...sessions]) session.deliver(topic, m, framed);
  }

  /** @internal */
  presenceChanged(topic: string, change: PresenceChange, member: PresenceMember): void {
    const watches = this.watches.get(topic);
    if (watches !== undefined) for (const watch of [...watches]) watch.changed(change, member);
    const sessions = this.sessions.subscribers(topic);
    if (sessions === undefined) return;
    const text = presenceText(change, topic, member);
    for (const session of [...sessions]) session.presenceChanged(topic, text);
  }

  /** @internal The broker is back after an outage: each subscription reads what it may have missed. */
  resumed(): void {
    for (const session of this.byConnection.values()) session.catchUp();
    for (const watches of this.watches.values()) for (const watch of watches) watch.reload();
  }
}

/** handleProtocols for a server with durable topics: wskit.topics.v1 when offered, else the application's choice. */
export function withTopicsProtocol(
  handleProtocols: ((protocols: Set<string>, req: IncomingMessage) => string | false) | undefined,
): (protocols: Set<string>, req: IncomingMessage) => string | false {
  return (protocols, req) => {
    if (protocols.has(TOPICS_PROTOCOL)) return TOPICS_PROTOCOL;
    if (handleProtocols !== undefined) return handleProtocols(protocols, req);
    const [first] = protocols;
    return first ?? false;
  };
}
