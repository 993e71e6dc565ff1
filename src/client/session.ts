/**
 * The client's protocol logic, without a socket or a timer: what to send when a connection opens,
 * what each message from the server means, what survives a reconnect. The adapter (topics-client.ts)
 * gives it the text it receives and tells it when a connection opens and closes; it calls `send`
 * only while a connection is open. Tests drive it directly.
 *
 * What survives a connection: the subscriptions (sent again, with `since` their position), the
 * publishes not acknowledged (sent again with the same key, so that the server stores each once),
 * the presence queries not answered.
 */
import { type Codec, fromBase64, toBase64 } from './codec.js';
import { argumentError, TopicsError } from './errors.js';
import { type PendingPublish, type PublishBuffer, type PublishResult, utf8Length } from './publish-buffer.js';
import {
  type AnySubscription,
  closedError,
  type DistributiveOmit,
  describe,
  type PresenceQuery,
  type Request,
  refusal,
} from './requests.js';
import type { GapEvent, SubscribeOptions, Subscription as SubscriptionType } from './subscription.js';
import { Subscription } from './subscription.js';
import type { CursorGap } from './topic-cursor.js';
import {
  type ClientMessage,
  encodeClientMessage,
  MAX_KEY_LENGTH,
  type Member,
  parseServerMessage,
  type ServerMessage,
  topicProblem,
} from './wire.js';

export interface SessionHooks {
  /** Sends a frame on the open connection. */
  send(text: string): void;
  /** A gap in one of the subscriptions. */
  gap(event: GapEvent): void;
  /** Something went wrong that no request is waiting for. */
  error(error: TopicsError): void;
  /** Runs `action` a little later (a subscribe refused as `unavailable` is tried again). */
  later(action: () => void): void;
}

export interface PublishOptions {
  /** The publish's key (at most 64 characters, unique per message). Default: one the client makes. */
  key?: string;
}

export class TopicsSession<T> {
  private readonly codec: Codec<T>;
  private readonly hooks: SessionHooks;
  private readonly publishes: PublishBuffer;
  private readonly subscriptions = new Map<string, AnySubscription>();
  /** Requests sent on the current connection, by id. */
  private readonly requests = new Map<number, Request>();
  private readonly queries = new Set<PresenceQuery>();
  private readonly keyPrefix: string;
  private nextId = 1;
  private nextKey = 1;
  private connected = false;
  private closed = false;

  constructor(codec: Codec<T>, publishes: PublishBuffer, hooks: SessionHooks, keyPrefix: string) {
    this.codec = codec;
    this.publishes = publishes;
    this.hooks = hooks;
    this.keyPrefix = keyPrefix;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The topics subscribed to. */
  topics(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** Publishes waiting for an acknowledgement (sent or not), and their bytes. */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.publishes.size, bytes: this.publishes.bufferedBytes };
  }

  // ---- what the application does ----

  subscribe<M extends T, I>(topic: string, options: SubscribeOptions<M, I> = {}): SubscriptionType<M, I> {
    this.checkOpen();
    const problem = topicProblem(topic);
    if (problem !== null) throw argumentError(`Cannot subscribe to ${JSON.stringify(topic)}: ${problem}`);
    if (this.subscriptions.has(topic)) {
      throw argumentError(`Already subscribed to ${JSON.stringify(topic)}: use the Subscription it returned`);
    }
    const history = options.history ?? 0;
    if (!Number.isSafeInteger(history) || history < 0) {
      throw argumentError(`history must be an integer ≥ 0; got ${String(options.history)}`);
    }
    const subscription = new Subscription<M, I>(topic, options, (s) =>
      this.unsubscribe(s as unknown as AnySubscription),
    );
    this.subscriptions.set(topic, subscription as unknown as AnySubscription);
    if (this.connected) this.sendSubscribe(subscription as unknown as AnySubscription);
    return subscription;
  }

  publish(topic: string, value: T, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.closed) return Promise.reject(closedError());
    const problem = topicProblem(topic);
    if (problem !== null) {
      return Promise.reject(argumentError(`Cannot publish to ${JSON.stringify(topic)}: ${problem}`));
    }
    const key = options.key ?? `${this.keyPrefix}${this.nextKey++}`;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return Promise.reject(argumentError(`A publish key is a string of 1 to ${MAX_KEY_LENGTH} characters`));
    }
    let payload: string | Uint8Array;
    try {
      payload = this.codec.encode(value);
    } catch (err) {
      return Promise.reject(
        new TopicsError('TOPICS_ERR_CODEC', `The codec could not encode the value: ${describe(err)}`, {
          topic,
          cause: err,
        }),
      );
    }
    const binary = typeof payload !== 'string';
    const data = typeof payload === 'string' ? payload : toBase64(payload);
    return new Promise<PublishResult>((resolve, reject) => {
      const entry: PendingPublish = {
        topic,
        data,
        binary,
        key,
        bytes: utf8Length(data),
        resolve: (result) => {
          this.publishes.remove(entry);
          resolve(result);
        },
        reject: (error) => {
          this.publishes.remove(entry);
          reject(error);
        },
      };
      this.publishes.add(entry); // throws TOPICS_ERR_BUFFER_FULL: the promise rejects with it
      if (this.connected) this.sendPublish(entry);
    });
  }

  /** The members of `topic`'s presence now, asked of the server (when connected). */
  presence<I = unknown>(topic: string): Promise<Member<I>[]> {
    if (this.closed) return Promise.reject(closedError());
    const problem = topicProblem(topic);
    if (problem !== null)
      return Promise.reject(argumentError(`Cannot query ${JSON.stringify(topic)}: ${problem}`));
    return new Promise<Member[]>((resolve, reject) => {
      const query: PresenceQuery = {
        topic,
        resolve: (members) => {
          this.queries.delete(query);
          resolve(members);
        },
        reject: (error) => {
          this.queries.delete(query);
          reject(error);
        },
      };
      this.queries.add(query);
      if (this.connected) this.request({ kind: 'presence', query }, { type: 'presence', topic });
    }) as Promise<Member<I>[]>;
  }

  /** Sends a heartbeat `ping` (when connected). */
  ping(): void {
    if (this.connected) this.request({ kind: 'ping' }, { type: 'ping' });
  }

  /** The client is closed: every request waiting fails with TOPICS_ERR_CLOSED. */
  close(): void {
    if (this.closed) return;
    this.connectionLost();
    this.closed = true;
    const error = closedError();
    this.publishes.rejectAll(error);
    for (const query of [...this.queries]) query.reject(error);
    for (const subscription of this.subscriptions.values()) {
      subscription.ended = true;
      subscription.settle?.reject(error);
      subscription.settle = null;
    }
    this.subscriptions.clear();
  }

  // ---- the connection ----

  /** A connection opened (and selected wskit.topics.v1): subscribe again, send what waited. */
  connectionOpened(): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    for (const subscription of this.subscriptions.values()) this.sendSubscribe(subscription);
    for (const query of this.queries)
      this.request({ kind: 'presence', query }, { type: 'presence', topic: query.topic });
    for (const entry of this.publishes.all()) this.sendPublish(entry);
  }

  /** The connection closed: the requests sent on it will never be answered on it. */
  connectionLost(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const request of this.requests.values()) {
      if (request.kind === 'unsubscribe') request.done?.();
    }
    this.requests.clear();
    for (const subscription of this.subscriptions.values()) {
      subscription.cursor.suspend();
      subscription.presenceList.stale();
    }
  }

  /** A text message from the server. */
  receive(text: string): void {
    if (!this.connected) return;
    const message = parseServerMessage(text);
    if (message === null) {
      this.hooks.error(
        new TopicsError(
          'TOPICS_ERR_PROTOCOL',
          `The server sent a message that is not wskit.topics.v1: ${text.slice(0, 100)}`,
        ),
      );
      return;
    }
    this.dispatch(message);
  }

  /** A binary message from the server: wskit.topics.v1 has none. */
  receiveBinary(): void {
    if (!this.connected) return;
    this.hooks.error(
      new TopicsError('TOPICS_ERR_PROTOCOL', 'The server sent a binary message: wskit.topics.v1 has none'),
    );
  }

  // ---- what the server says ----

  private dispatch(message: ServerMessage): void {
    const request = 'id' in message ? this.takeRequest(message.id) : undefined;
    switch (message.type) {
      case 'subscribed':
        this.subscribed(message, request);
        break;
      case 'unsubscribed':
        if (request?.kind === 'unsubscribe') request.done?.();
        break;
      case 'message':
        this.message(message);
        break;
      case 'ack':
        if (request?.kind === 'publish') {
          request.entry.resolve({ topic: message.topic, offset: message.offset, epoch: message.epoch });
        }
        break;
      case 'presence':
        if (request?.kind === 'presence') request.query.resolve(message.members);
        this.presenceList(message.topic, message.members);
        break;
      case 'join':
      case 'leave':
        this.member(message.type, message.topic, message.member);
        break;
      case 'pong':
        break;
      case 'error':
        this.error(message, request);
        break;
    }
  }

  private subscribed(
    message: Extract<ServerMessage, { type: 'subscribed' }>,
    request: Request | undefined,
  ): void {
    const subscription = this.subscriptions.get(message.topic);
    if (subscription === undefined) return; // unsubscribed meanwhile
    const since = request?.kind === 'subscribe' ? request.since : subscription.cursor.position();
    const gap = subscription.cursor.subscribed(since, message, subscription.history);
    const event = {
      topic: message.topic,
      epoch: message.epoch,
      offset: message.offset,
      recovered: message.recovered,
      resumed: since !== null,
    };
    subscription.emit('subscribed', event);
    subscription.settle?.resolve(event);
    subscription.settle = null;
    if (gap !== null) this.gap(subscription, gap);
    if (subscription.presenceInfo !== undefined) {
      const query: PresenceQuery = { topic: message.topic, resolve: () => {}, reject: () => {} };
      this.request({ kind: 'presence', query }, { type: 'presence', topic: message.topic });
    }
  }

  private message(message: Extract<ServerMessage, { type: 'message' }>): void {
    const subscription = this.subscriptions.get(message.topic);
    if (subscription === undefined) return;
    const verdict = subscription.cursor.accept(message.offset, message.epoch);
    switch (verdict.kind) {
      case 'ignore':
      case 'duplicate':
        return;
      case 'jump':
        // Messages were lost on the way (a server that skipped this connection): fetch them again
        // with a resume, holding the later ones back (they are replayed too) so that order is kept.
        this.request(
          { kind: 'unsubscribe', topic: message.topic, repair: true, done: null },
          { type: 'unsubscribe', topic: message.topic },
        );
        this.sendSubscribe(subscription);
        return;
      case 'deliver':
        break;
    }
    if (verdict.gap !== undefined) this.gap(subscription, verdict.gap);
    let data: T;
    try {
      data = this.codec.decode(message.binary ? fromBase64(message.data) : message.data) as T;
    } catch (err) {
      subscription.emit(
        'error',
        new TopicsError(
          'TOPICS_ERR_CODEC',
          `Message ${message.offset} of ${JSON.stringify(message.topic)} could not be decoded, and was skipped: ${describe(err)}`,
          { topic: message.topic, cause: err },
        ),
      );
      return;
    }
    subscription.emit('message', {
      topic: message.topic,
      offset: message.offset,
      epoch: message.epoch,
      data,
      replayed: verdict.replayed,
    });
  }

  private presenceList(topic: string, members: Member[]): void {
    const subscription = this.subscriptions.get(topic);
    if (subscription?.presenceInfo === undefined) return;
    subscription.presenceList.replace(members);
    subscription.emit('presence', { topic, members: subscription.presenceList.list() });
  }

  private member(type: 'join' | 'leave', topic: string, member: Member): void {
    const subscription = this.subscriptions.get(topic);
    if (subscription === undefined) return;
    const list = subscription.presenceList;
    const changed = type === 'join' ? list.join(member) : list.leave(member);
    if (changed) subscription.emit(type, { topic, member, members: list.list() });
  }

  private error(message: Extract<ServerMessage, { type: 'error' }>, request: Request | undefined): void {
    const error = refusal(request, message.code, message.message);
    switch (request?.kind) {
      case 'subscribe': {
        const subscription = request.subscription;
        if ((message.code === 'unavailable' || message.code === 'rate_limited') && !subscription.ended) {
          // The broker is down, or the server busy: the subscription stands, and is tried again
          // (with the same since).
          subscription.emit('error', error);
          this.hooks.later(() => {
            if (
              this.connected &&
              !subscription.ended &&
              this.subscriptions.get(subscription.topic) === subscription
            ) {
              this.sendSubscribe(subscription);
            }
          });
          return;
        }
        if (this.subscriptions.get(subscription.topic) === subscription) {
          this.subscriptions.delete(subscription.topic);
        }
        subscription.ended = true;
        subscription.emit('error', error);
        subscription.settle?.reject(error);
        subscription.settle = null;
        return;
      }
      case 'publish':
        request.entry.reject(error);
        return;
      case 'presence':
        request.query.reject(error);
        return;
      case 'unsubscribe':
        request.done?.();
        return;
      default:
        this.hooks.error(error);
    }
  }

  // ---- helpers ----

  private gap(subscription: AnySubscription, gap: CursorGap): void {
    const event: GapEvent = { ...gap, topic: subscription.topic };
    subscription.emit('gap', event);
    this.hooks.gap(event);
  }

  private takeRequest(id: number | undefined): Request | undefined {
    if (id === undefined) return undefined;
    const request = this.requests.get(id);
    this.requests.delete(id);
    return request;
  }

  private request(request: Request, message: DistributiveOmit<ClientMessage, 'id'>): void {
    const id = this.nextId++;
    this.requests.set(id, request);
    this.hooks.send(encodeClientMessage({ ...message, id } as ClientMessage));
  }

  private sendSubscribe(subscription: AnySubscription): void {
    const since = subscription.cursor.position();
    const message: DistributiveOmit<Extract<ClientMessage, { type: 'subscribe' }>, 'id'> = {
      type: 'subscribe',
      topic: subscription.topic,
    };
    if (since !== null) message.since = since;
    else if (subscription.history > 0) message.history = subscription.history;
    if (subscription.presenceInfo !== undefined) message.presence = { info: subscription.presenceInfo.info };
    this.request({ kind: 'subscribe', subscription, since }, message);
  }

  private sendPublish(entry: PendingPublish): void {
    const message: DistributiveOmit<Extract<ClientMessage, { type: 'publish' }>, 'id'> = {
      type: 'publish',
      topic: entry.topic,
      data: entry.data,
      key: entry.key,
    };
    if (entry.binary) message.binary = true;
    this.request({ kind: 'publish', entry }, message);
  }

  private unsubscribe(subscription: AnySubscription): Promise<void> {
    if (subscription.ended) return Promise.resolve();
    subscription.ended = true;
    if (this.subscriptions.get(subscription.topic) === subscription)
      this.subscriptions.delete(subscription.topic);
    subscription.settle?.reject(
      new TopicsError('TOPICS_ERR_CLOSED', `Unsubscribed from ${JSON.stringify(subscription.topic)}`, {
        topic: subscription.topic,
      }),
    );
    subscription.settle = null;
    if (!this.connected) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.request(
        { kind: 'unsubscribe', topic: subscription.topic, repair: false, done: resolve },
        { type: 'unsubscribe', topic: subscription.topic },
      );
    });
  }

  private checkOpen(): void {
    if (this.closed) throw closedError();
  }
}
