/**
 * Who is online in a room across every chat server that shares a broker. Each server knows its own
 * members; it announces them to the others on the room's presence topic (a broker topic of servers,
 * never sent to browsers) whenever they change, and again every `refreshInterval` ms. A server that
 * gets its first member in a room asks the others to announce theirs. An announcement not refreshed
 * within three intervals is dropped, so the members of a server that died without a word disappear.
 * A broker that emits 'ready' when its connection is (re)established, as RedisBroker does, gets every
 * room announced again then, with the ask: what was published while it was down was lost.
 *
 * Wire format, JSON: `{ "server": ID, "room": ROOM, "users": [NAME...], "ask": true? }`.
 *
 * What changes is reported as names: those that another server now has in a room and none had
 * before, and those that no other server has any more (onRemoteChange), so that the chat server can
 * tell its members the difference, not the whole list again.
 */
import { randomUUID } from 'node:crypto';
import type { Broker, BrokerSink } from '../index.js';

export interface PresenceOptions {
  broker: Broker;
  /**
   * Called when the names the other servers have in `room` changed: `added` were had by none of them
   * before, `removed` are had by none any more.
   */
  onRemoteChange: (room: string, added: string[], removed: string[]) => void;
  /** Called when the broker failed (the members of other servers may be out of date). */
  onError?: (error: Error) => void;
  /** Milliseconds between announcements of the same members. Default 20,000. */
  refreshInterval?: number;
  /** The clock, in milliseconds. Default Date.now(). */
  now?: () => number;
}

export const DEFAULT_PRESENCE_REFRESH = 20_000;

const TOPIC_PREFIX = 'chat-presence/';
/** Most names one announcement may carry, and the longest name kept: a sanity bound on what arrives. */
const MAX_REMOTE_USERS = 10_000;
const MAX_REMOTE_NAME = 256;

interface Announcement {
  users: string[];
  expires: number;
}

export class Presence implements BrokerSink {
  readonly serverId = randomUUID();
  private readonly broker: Broker;
  private readonly options: PresenceOptions;
  private readonly refreshInterval: number;
  private readonly now: () => number;
  /** This server's members by room, as last announced. */
  private readonly local = new Map<string, string[]>();
  /** Other servers' members: room → server id → announcement. */
  private readonly remote = new Map<string, Map<string, Announcement>>();
  /** How many of the other servers' announcements in a room carry each name: room → name → count. */
  private readonly remoteNames = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly onBrokerReady = (): void => {
    for (const [room, users] of this.local) this.announce(room, users, true);
  };

  constructor(options: PresenceOptions) {
    this.options = options;
    this.broker = options.broker;
    this.refreshInterval = options.refreshInterval ?? DEFAULT_PRESENCE_REFRESH;
    this.now = options.now ?? Date.now;
    this.broker.attach(this);
    brokerEvents(this.broker)?.on('ready', this.onBrokerReady);
    this.timer = setInterval(() => this.refresh(), this.refreshInterval);
    this.timer.unref();
  }

  /** This server's members of `room` changed: tell the other servers. */
  update(room: string, users: string[]): void {
    if (this.closed) return;
    const first = !this.local.has(room);
    if (users.length === 0) {
      if (first) return;
      this.local.delete(room);
      this.announce(room, []);
      this.broker.unsubscribe(this, TOPIC_PREFIX + room);
      this.remote.delete(room);
      this.remoteNames.delete(room);
      return;
    }
    this.local.set(room, users);
    if (first) this.broker.subscribe(this, TOPIC_PREFIX + room);
    this.announce(room, users, first);
  }

  /** The names other servers announced in `room` (only known while this server has members there). */
  remoteUsers(room: string): string[] {
    return [...(this.remoteNames.get(room)?.keys() ?? [])];
  }

  /** Whether another server announced someone called `name` in `room`. */
  hasRemote(room: string, name: string): boolean {
    return this.remoteNames.get(room)?.has(name) ?? false;
  }

  /** BrokerSink: another server's announcement. Anything malformed is ignored. */
  deliver(topic: string, data: Buffer): void {
    if (this.closed || !topic.startsWith(TOPIC_PREFIX)) return;
    const room = topic.slice(TOPIC_PREFIX.length);
    const message = parseAnnouncement(data);
    if (message === null || message.room !== room || message.server === this.serverId) return;
    const mine = this.local.get(room);
    if (mine === undefined) return;
    let servers = this.remote.get(room);
    if (servers === undefined) this.remote.set(room, (servers = new Map()));
    const before = servers.get(message.server)?.users ?? [];
    if (message.users.length === 0) servers.delete(message.server);
    else
      servers.set(message.server, { users: message.users, expires: this.now() + 3 * this.refreshInterval });
    if (message.ask) this.announce(room, mine);
    this.count(room, before, message.users);
  }

  brokerError(error: Error): void {
    this.options.onError?.(error);
  }

  /** Tells the other servers this one has no members left, and leaves the broker. */
  close(): void {
    if (this.closed) return;
    for (const room of [...this.local.keys()]) this.update(room, []);
    this.closed = true;
    clearInterval(this.timer);
    brokerEvents(this.broker)?.off('ready', this.onBrokerReady);
    this.broker.detach(this);
  }

  private announce(room: string, users: string[], ask = false): void {
    const message = ask
      ? { server: this.serverId, room, users, ask: true }
      : { server: this.serverId, room, users };
    this.broker
      .publish(this, TOPIC_PREFIX + room, Buffer.from(JSON.stringify(message)), false)
      .catch((err: Error) => this.brokerError(err));
  }

  /** Announces every room again, and forgets the announcements that were not refreshed in time. */
  private refresh(): void {
    const now = this.now();
    for (const [room, users] of this.local) this.announce(room, users);
    for (const [room, servers] of this.remote) {
      for (const [server, announcement] of servers) {
        if (announcement.expires > now) continue;
        servers.delete(server);
        this.count(room, announcement.users, []);
      }
      if (servers.size === 0) this.remote.delete(room);
    }
  }

  /**
   * One server's names in `room` went from `before` to `after`: updates the counts and reports the
   * names no other server had before and those none has now.
   */
  private count(room: string, before: readonly string[], after: readonly string[]): void {
    if (before.length === 0 && after.length === 0) return;
    let counts = this.remoteNames.get(room);
    if (counts === undefined) this.remoteNames.set(room, (counts = new Map()));
    const touched = new Set<string>();
    for (const name of new Set(before)) {
      counts.set(name, (counts.get(name) ?? 0) - 1);
      touched.add(name);
    }
    const added: string[] = [];
    for (const name of new Set(after)) {
      const n = counts.get(name) ?? 0;
      counts.set(name, n + 1);
      if (n === 0 && !touched.has(name)) added.push(name);
      touched.delete(name);
    }
    const removed: string[] = [];
    for (const name of touched) {
      if (counts.get(name) === 0) {
        counts.delete(name);
        removed.push(name);
      }
    }
    if (counts.size === 0) this.remoteNames.delete(room);
    if (added.length > 0 || removed.length > 0) this.options.onRemoteChange(room, added, removed);
  }
}

interface BrokerEvents {
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** The broker's events, when it has some (RedisBroker is an EventEmitter; the Broker interface has none). */
function brokerEvents(broker: Broker): BrokerEvents | null {
  const events = broker as Partial<BrokerEvents>;
  return typeof events.on === 'function' && typeof events.off === 'function'
    ? (events as BrokerEvents)
    : null;
}

function parseAnnouncement(
  data: Buffer,
): { server: string; room: string; users: string[]; ask: boolean } | null {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { server, room, users, ask } = value as Record<string, unknown>;
  if (typeof server !== 'string' || typeof room !== 'string' || !Array.isArray(users)) return null;
  if (users.length > MAX_REMOTE_USERS) return null;
  if (!users.every((u) => typeof u === 'string' && u.length > 0 && u.length <= MAX_REMOTE_NAME)) return null;
  return { server, room, users: users as string[], ask: ask === true };
}
