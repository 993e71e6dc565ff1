/**
 * One connection speaking wskit.topics.v1: its requests, its subscriptions, and for each the replay
 * of the history, then the live messages without gap or duplicate. A subscription being replayed
 * buffers the live messages that arrive meanwhile and sends those after what it replayed; a live
 * message past the next expected offset (messages missed while the broker reconnected) makes the
 * subscription read the missing ones from the history first.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DurableTopics, TopicsConnection } from './durable-topics.js';
import type { HistoryRange, PresenceMember, SequencedMessage } from './sequenced.js';
import {
  BadRequest,
  type ClientRequest,
  type ErrorReply,
  errorText,
  type Gap,
  parseRequest,
  presenceText,
  replyText,
  subscribedText,
} from './topics-wire.js';

/** Bad requests a connection may send before it is closed with 1008. */
const MAX_ERRORS = 10;

interface Subscription {
  readonly topic: string;
  epoch: string | null;
  /** The last offset sent (replayed or live). */
  sent: number;
  /** Live messages that arrived during a replay, sent after it; null when live. */
  buffer: SequencedMessage[] | null;
  /** Live messages were held back (the connection was over maxBackpressure): read them once it drains. */
  behind: boolean;
  member: PresenceMember | null;
  /** Epochs this subscription left behind: their late messages are dropped. */
  readonly stale: Set<string>;
}

export class TopicsSession {
  /** The name the server gives this connection in presence. */
  readonly client = randomBytes(9).toString('base64url');
  private readonly durable: DurableTopics;
  readonly ws: TopicsConnection;
  readonly req: IncomingMessage;
  private readonly subscriptions = new Map<string, Subscription>();
  private errors = 0;
  private inflight = 0;
  private closed = false;
  /** Waiting (whenBelow) for the connection to drain below maxBackpressure. */
  private lagging = false;

  constructor(durable: DurableTopics, ws: TopicsConnection, req: IncomingMessage) {
    this.durable = durable;
    this.ws = ws;
    this.req = req;
    ws.on('message', this.onMessage);
    ws.once('close', this.onClose);
  }

  get topics(): string[] {
    return [...this.subscriptions.keys()];
  }

  private readonly onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
    if (isBinary) {
      this.fail(undefined, 'bad_message', 'wskit.topics.v1 messages are JSON text, not binary');
      this.ws.close(1008, 'Binary message on wskit.topics.v1');
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.from(data as Buffer).toString();
    const request = parseRequest(text);
    if (request instanceof BadRequest) {
      this.fail(request.id, request.code, request.message);
      return;
    }
    if (request.type === 'ping') {
      this.send(replyText('pong', request.id, {}));
      return;
    }
    if (this.inflight >= this.durable.maxPendingRequests) {
      this.send(
        errorText(
          request.id,
          'rate_limited',
          `More than ${this.durable.maxPendingRequests} requests pending`,
        ),
      );
      return;
    }
    this.inflight++;
    this.handle(request)
      .catch((err: Error) => {
        // The details (a Redis address...) are the server's: the client is told to try again.
        this.durable.sink.brokerError(err);
        this.fail(request.id, 'unavailable', 'The server cannot reach its broker now: try again later');
      })
      .finally(() => this.inflight--);
  };

  private readonly onClose = (): void => {
    this.closed = true;
    for (const sub of this.subscriptions.values()) this.drop(sub);
    this.subscriptions.clear();
  };

  private async handle(request: Exclude<ClientRequest, { type: 'ping' }>): Promise<void> {
    const { id, topic } = request;
    if (request.type === 'unsubscribe') {
      const sub = this.subscriptions.get(topic);
      if (sub === undefined) {
        this.send(errorText(id, 'not_subscribed', `Not subscribed to ${JSON.stringify(topic)}`));
        return;
      }
      this.subscriptions.delete(topic);
      this.drop(sub);
      this.send(replyText('unsubscribed', id, { topic }));
      return;
    }
    const retention = this.durable.retentionOf(topic);
    if (retention === null) {
      this.send(errorText(id, 'bad_topic', `Topic ${JSON.stringify(topic)} has no history on this server`));
      return;
    }
    const action = request.type === 'subscribe' && request.presence !== undefined ? 'presence' : null;
    if (!(await this.durable.allowed(this, request.type, topic))) {
      this.send(errorText(id, 'forbidden', `Not allowed to ${request.type} on ${JSON.stringify(topic)}`));
      return;
    }
    if (action !== null && !(await this.durable.allowed(this, action, topic))) {
      this.send(errorText(id, 'forbidden', `Not allowed to join the presence of ${JSON.stringify(topic)}`));
      return;
    }
    if (this.closed) return;
    switch (request.type) {
      case 'publish': {
        const appended = await this.durable.append(topic, {
          data: request.data,
          isBinary: request.isBinary,
          key: request.key,
          retention,
        });
        this.send(replyText('ack', id, { topic, offset: appended.offset, epoch: appended.epoch }));
        return;
      }
      case 'presence': {
        const members = await this.durable.broker.members(topic);
        this.send(replyText('presence', id, { topic, members }));
        return;
      }
      case 'subscribe':
        await this.subscribe(request);
        return;
    }
  }

  private async subscribe(request: ClientRequest & { type: 'subscribe' }): Promise<void> {
    const { id, topic, since } = request;
    const old = this.subscriptions.get(topic);
    if (old === undefined && this.subscriptions.size >= this.durable.maxSubscriptions) {
      this.send(
        errorText(id, 'rate_limited', `At most ${this.durable.maxSubscriptions} topics per connection`),
      );
      return;
    }
    // Subscribing again (to fill a gap, say) starts over; presence stays joined.
    const sub: Subscription = {
      topic,
      epoch: null,
      sent: 0,
      buffer: [],
      behind: false,
      member: old?.member ?? null,
      stale: new Set(),
    };
    this.subscriptions.set(topic, sub);
    if (old === undefined) this.durable.addSession(topic, this);
    const retention = this.durable.retentionOf(topic)!;
    let range: HistoryRange;
    let buffered = 0;
    try {
      await this.durable.broker.whenSubscribed(topic);
      buffered = sub.buffer?.length ?? 0;
      range = await this.durable.broker.read(topic, since?.offset ?? 0, retention);
      if (since !== undefined && since.offset > 0 && range.epoch !== since.epoch) {
        buffered = sub.buffer?.length ?? 0;
        range = await this.durable.broker.read(topic, 0, retention);
      }
    } catch (err) {
      if (this.subscriptions.get(topic) === sub) {
        this.subscriptions.delete(topic);
        this.drop(sub);
      }
      throw err;
    }
    if (this.subscriptions.get(topic) !== sub || this.closed) return; // unsubscribed or replaced meanwhile
    let recovered = false;
    let gap: Gap | undefined;
    let replay = range.messages;
    if (since !== undefined) {
      if (since.epoch !== range.epoch) {
        // The history the client knew is gone: the new one is replayed from its start.
        gap = { reason: 'epoch', from: 1, to: range.first - 1 };
      } else if (since.offset > range.last) {
        // An offset this history never had: the client's is another one, under the same name.
        gap = { reason: 'epoch', from: 1, to: range.last };
        replay = [];
      } else if (since.offset + 1 >= range.first) {
        recovered = true;
      } else {
        gap = { reason: 'retention', from: since.offset + 1, to: range.first - 1 };
      }
    } else {
      const n = Math.min(request.history ?? 0, retention.maxCount);
      replay = n === 0 ? [] : replay.slice(-n);
    }
    this.send(subscribedText(id, topic, range.epoch, range.last, recovered, gap));
    sub.epoch = range.epoch;
    this.replay(sub, { ...range, messages: replay });
    this.markStale(sub, buffered);
    this.goLive(sub);
    if (request.presence !== undefined && sub.member === null) {
      sub.member = { client: this.client, info: request.presence.info };
      await this.durable.broker.join(this.durable.sink, topic, sub.member);
    }
  }

  /** Sends what arrived during a replay, then lets live messages through. */
  private goLive(sub: Subscription): void {
    const buffered = sub.buffer ?? [];
    sub.buffer = null;
    for (let i = 0; i < buffered.length; i++) {
      this.deliver(sub.topic, buffered[i], null);
      if (sub.buffer !== null) {
        // A gap in the buffered messages: the ones after it wait for the history to be read.
        (sub.buffer as SequencedMessage[]).push(...buffered.slice(i + 1));
        return;
      }
    }
  }

  /** A live message of a topic this connection is subscribed to. `frame`: the message framed once. */
  deliver(topic: string, m: SequencedMessage, frame: (() => Buffer) | null): void {
    const sub = this.subscriptions.get(topic);
    if (sub === undefined) return;
    if (sub.buffer !== null) {
      sub.buffer.push(m);
      return;
    }
    if (sub.stale.has(m.epoch) || (m.epoch === sub.epoch && m.offset <= sub.sent)) return; // sent already
    const max = this.durable.sink.maxBackpressure;
    if (this.ws.bufferedAmount > max) {
      // A slow reader: not sent now, and not lost: once the connection drains below the bound, what
      // it missed is read from the history (or sooner, by the next live message finding the hole).
      this.durable.sink.countLagging();
      sub.behind = true;
      if (!this.lagging) {
        this.lagging = true;
        this.ws.whenBelow(max, this.onDrained);
      }
      return;
    }
    if (m.epoch !== sub.epoch || m.offset > sub.sent + 1) {
      // A new epoch (Redis lost the history), or messages missed while the broker reconnected.
      this.fill(sub, m);
      return;
    }
    sub.sent = m.offset;
    if (frame !== null && this.ws.compression === null) this.ws.sendFramed(frame());
    else this.send(this.durable.messageText(topic, m));
  }

  /** The connection drained below maxBackpressure: the subscriptions held back catch up. */
  private readonly onDrained = (): void => {
    this.lagging = false;
    if (this.closed) return;
    for (const sub of this.subscriptions.values()) {
      if (sub.behind && sub.buffer === null) this.fill(sub, null);
    }
  };

  /** Reads from the history what a live subscription is missing, sends it, then goes on live. */
  private fill(sub: Subscription, next: SequencedMessage | null): void {
    sub.behind = false;
    sub.buffer = next === null ? [] : [next];
    const before = sub.buffer.length;
    const retention = this.durable.retentionOf(sub.topic)!;
    const from = sub.sent;
    const read = async () => {
      const range = await this.durable.broker.read(sub.topic, from, retention);
      return range.epoch === sub.epoch || from === 0
        ? range
        : this.durable.broker.read(sub.topic, 0, retention);
    };
    read().then(
      (range) => {
        if (this.subscriptions.get(sub.topic) !== sub || this.closed) return;
        if (range.epoch !== sub.epoch) {
          if (sub.epoch !== null) sub.stale.add(sub.epoch);
          sub.epoch = range.epoch;
          this.send(
            subscribedText(undefined, sub.topic, range.epoch, range.last, false, {
              reason: 'epoch',
              from: 1,
              to: range.first - 1,
            }),
          );
          sub.sent = 0;
        } else if (from + 1 < range.first) {
          this.send(
            subscribedText(undefined, sub.topic, range.epoch, range.last, false, {
              reason: 'retention',
              from: from + 1,
              to: range.first - 1,
            }),
          );
        }
        this.replay(sub, range);
        this.markStale(sub, before);
        this.goLive(sub);
      },
      () => {
        if (this.subscriptions.get(sub.topic) !== sub || this.closed) return;
        // The history cannot be read: say which offsets are lost, and go on from the next message.
        const first = sub.buffer?.[0];
        if (first !== undefined && first.epoch === sub.epoch && first.offset > sub.sent + 1) {
          this.send(
            subscribedText(undefined, sub.topic, first.epoch, first.offset - 1, false, {
              reason: 'unavailable',
              from: sub.sent + 1,
              to: first.offset - 1,
            }),
          );
          sub.sent = first.offset - 1;
        } else if (first !== undefined && first.epoch !== sub.epoch) {
          if (sub.epoch !== null) sub.stale.add(sub.epoch);
          sub.epoch = first.epoch;
          sub.sent = first.offset - 1;
          this.send(
            subscribedText(undefined, sub.topic, first.epoch, first.offset - 1, false, {
              reason: 'unavailable',
              from: 1,
              to: first.offset - 1,
            }),
          );
        }
        this.goLive(sub);
      },
    );
  }

  /** Sends the messages of `range` after the last one sent; the subscription is then at range.last. */
  private replay(sub: Subscription, range: HistoryRange): void {
    for (const m of range.messages) {
      if (m.offset > sub.sent) this.send(this.durable.messageText(sub.topic, { ...m, epoch: range.epoch }));
    }
    sub.sent = Math.max(sub.sent, range.last);
  }

  /**
   * The first `count` buffered messages arrived before the history was read: one of another epoch
   * than the history's is of an epoch that is gone (a later one would have been read).
   */
  private markStale(sub: Subscription, count: number): void {
    const buffer = sub.buffer ?? [];
    for (let i = 0; i < count && i < buffer.length; i++) {
      if (buffer[i].epoch !== sub.epoch) sub.stale.add(buffer[i].epoch);
    }
  }

  /** The broker reconnected: messages published meanwhile are read from the history. */
  catchUp(): void {
    for (const sub of this.subscriptions.values()) if (sub.buffer === null) this.fill(sub, null);
  }

  presenceChanged(topic: string, text: string): void {
    if (this.subscriptions.get(topic)?.member != null) this.send(text);
  }

  private drop(sub: Subscription): void {
    this.durable.removeSession(sub.topic, this);
    if (sub.member !== null) {
      const member = sub.member;
      sub.member = null;
      this.durable.broker.leave(this.durable.sink, sub.topic, member).catch(() => {});
    }
  }

  private fail(id: number | undefined, code: ErrorReply, message: string): void {
    this.send(errorText(id, code, message));
    if (code === 'bad_message' && ++this.errors >= MAX_ERRORS) {
      this.ws.close(1008, 'Too many bad wskit.topics.v1 messages');
    }
  }

  private send(text: string): void {
    if (this.ws.readyState !== 1) return;
    this.ws.send(Buffer.from(text), { binary: false });
  }
}

export { presenceText };
