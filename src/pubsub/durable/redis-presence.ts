/**
 * What a RedisBroker keeps for durable topics besides the connections: its process's presence
 * members (renewed in Redis every ttl / 3, so that they expire when the process dies) and the
 * `except` connections of its publishes, waiting for their messages to come back from Redis.
 */
import type { RedisClient } from '../redis-client.js';
import type { RedisHistory } from './redis-history.js';
import type { PresenceMember } from './sequenced.js';

/** Most `except` connections remembered for publishes whose message has not come back from Redis. */
const MAX_TAGS = 4096;

export class RedisPresence {
  private readonly history: RedisHistory;
  readonly ttl: number;
  private readonly members = new Map<string, Map<string, PresenceMember>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(history: RedisHistory, ttl: number) {
    this.history = history;
    this.ttl = ttl;
  }

  /** Adds a member (announced with a join when `publisher` can send; else added back at the next renewal). */
  async join(publisher: RedisClient | null, topic: string, member: PresenceMember): Promise<void> {
    let members = this.members.get(topic);
    if (members === undefined) this.members.set(topic, (members = new Map()));
    members.set(member.client, member);
    if (this.timer === null && !this.closed) {
      this.timer = setInterval(() => this.renew(this.publisherOf()), Math.max(10, this.ttl / 3));
      this.timer.unref();
    }
    if (publisher !== null)
      await this.history.join(publisher, topic, [member], this.ttl, true).catch(() => {});
  }

  /** Removes a member (a leave when `publisher` can send; else its entry expires). */
  async leave(publisher: RedisClient | null, topic: string, member: PresenceMember): Promise<void> {
    const members = this.members.get(topic);
    members?.delete(member.client);
    if (members?.size === 0) this.members.delete(topic);
    if (publisher !== null) await this.history.leave(publisher, topic, member).catch(() => {});
  }

  /** Renews every member of this process (adding back those Redis lost) and reaps the expired ones. */
  renew(publisher: RedisClient | null): void {
    if (publisher === null) return;
    for (const [topic, members] of this.members) {
      this.history.join(publisher, topic, [...members.values()], this.ttl, false).catch(() => {});
    }
  }

  /** Stops renewing; this process's members leave now (rather than when their entries expire). */
  async close(publisher: RedisClient | null): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const leaving: Promise<unknown>[] = [];
    if (publisher !== null) {
      for (const [topic, members] of this.members) {
        for (const member of members.values()) {
          leaving.push(this.history.leave(publisher, topic, member).catch(() => {}));
        }
      }
    }
    this.members.clear();
    await Promise.all(leaving);
  }

  /** Set by the broker: its publisher when commands can be sent, else null. */
  publisherOf: () => RedisClient | null = () => null;
}

/** The `except` connections of a broker's publishes, by the tag their message carries back. */
export class ExceptTags {
  private readonly byTag = new Map<number, object>();
  private last = 0;

  /** A tag for a publish (0 when there is nothing to leave out). */
  add(except: object | undefined): number {
    if (except === undefined) return 0;
    this.last = (this.last % 0xffffffff) + 1;
    this.byTag.set(this.last, except);
    // Messages that never came back (Redis went away after storing them) must not pile up.
    if (this.byTag.size > MAX_TAGS) this.byTag.delete(this.byTag.keys().next().value!);
    return this.last;
  }

  /** The connection to leave out for the message with `tag`, forgotten once taken. */
  take(tag: number): object | undefined {
    if (tag === 0) return undefined;
    const except = this.byTag.get(tag);
    this.byTag.delete(tag);
    return except;
  }
}
