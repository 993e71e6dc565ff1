/**
 * Who is online in a room across every chat server that shares a broker, on the durable presence of
 * the room's topic (`chat/ROOM`, server.durable): each member of this server is a presence member of
 * the topic (`{ client: SERVER:ID, info: { name } }`), joined and left one by one; a server with
 * members in a room watches the topic's presence (one list read, then join and leave deltas). With
 * a RedisBroker the entries are renewed by their process and expire `presenceTtl` after it stops
 * (a crash): the other servers get a `leave` for each, so no ghost stays.
 *
 * What changes is reported as names: those that another server now has in a room and none had
 * before, and those that no other server has any more (onRemoteChange), so that the chat server can
 * tell its members the difference, not the whole list again.
 */
import { randomBytes } from 'node:crypto';
import type { DurableTopics, PresenceMember, PresenceWatch } from '../index.js';
import { roomTopic } from './room-topics.js';

export interface PresenceOptions {
  durable: DurableTopics;
  /**
   * Called when the names the other servers have in `room` changed: `added` were had by none of them
   * before, `removed` are had by none any more.
   */
  onRemoteChange: (room: string, added: string[], removed: string[]) => void;
  /** Called when the broker failed (the members of other servers may be out of date). */
  onError?: (error: Error) => void;
}

/** The longest name kept from another server: a sanity bound on what arrives. */
const MAX_REMOTE_NAME = 256;
/**
 * Milliseconds a join waits for the room's list to be read (a broker round trip or two) before its
 * welcome goes without the other servers' names: those then come as changes.
 */
const READY_WAIT = 2000;

/** A room this server has members in. */
interface RoomView {
  readonly watch: PresenceWatch;
  /** This server's members: presence client → name. */
  readonly local: Map<string, string>;
  /** The other servers' members: presence client → name. */
  readonly remote: Map<string, string>;
  /** How many of the other servers' members have each name. */
  readonly names: Map<string, number>;
  /**
   * Resolves once the list was read (or READY_WAIT passed); null once it has: from then on, changes
   * are reported (before, the welcomes waiting for it carry the names).
   */
  ready: Promise<void> | null;
}

export class Presence {
  /** This server's name among the servers sharing the broker (random). */
  readonly serverId = randomBytes(12).toString('base64url');
  private readonly durable: DurableTopics;
  private readonly options: PresenceOptions;
  private readonly rooms = new Map<string, RoomView>();
  private closed = false;

  constructor(options: PresenceOptions) {
    this.options = options;
    this.durable = options.durable;
  }

  /** A new presence member for one of this server's connections (its id, to join and leave with). */
  newMember(): string {
    return `${this.serverId}:${randomBytes(12).toString('base64url')}`;
  }

  /** `member` of this server, called `name`, is in `room` now: every server hears of it. */
  join(room: string, member: string, name: string): void {
    if (this.closed) return;
    let view = this.rooms.get(room);
    if (view === undefined) {
      const watch = this.durable.watchPresence(roomTopic(room), (change, m) => this.changed(room, change, m));
      const created: RoomView = { watch, local: new Map(), remote: new Map(), names: new Map(), ready: null };
      let timer: NodeJS.Timeout | undefined;
      created.ready = Promise.race([
        watch.ready,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, READY_WAIT);
          timer.unref();
        }),
      ]).then(() => {
        clearTimeout(timer);
        created.ready = null;
      });
      view = created;
      this.rooms.set(room, view);
    }
    view.local.set(member, name);
    this.durable.join(roomTopic(room), { client: member, info: { name } }).catch(this.failed);
  }

  /**
   * Resolves once the other servers' names in `room` are known (after a join made the room's view),
   * null when they are already: a welcome waits for it, so that it lists them.
   */
  whenReady(room: string): Promise<void> | null {
    return this.rooms.get(room)?.ready ?? null;
  }

  /** `member` of this server left `room`. */
  leave(room: string, member: string): void {
    const view = this.rooms.get(room);
    const name = view?.local.get(member);
    if (view === undefined || name === undefined) return;
    view.local.delete(member);
    this.durable.leave(roomTopic(room), { client: member, info: { name } }).catch(this.failed);
    if (view.local.size > 0) return;
    // Nobody of this server is left to tell: the others' names are forgotten, read again on a join.
    view.watch.close();
    this.rooms.delete(room);
  }

  /** The names other servers have in `room` (only known while this server has members there). */
  remoteUsers(room: string): string[] {
    return [...(this.rooms.get(room)?.names.keys() ?? [])];
  }

  /** Whether another server has someone called `name` in `room`. */
  hasRemote(room: string, name: string): boolean {
    return this.rooms.get(room)?.names.has(name) ?? false;
  }

  /** This server's members leave every room (the others hear it now rather than at expiry). */
  close(): void {
    if (this.closed) return;
    for (const [room, view] of [...this.rooms])
      for (const member of [...view.local.keys()]) this.leave(room, member);
    this.closed = true;
  }

  private readonly failed = (err: Error): void => this.options.onError?.(err);

  /** A join or leave in the presence of `room`'s topic (this server's own are known already). */
  private changed(room: string, change: 'join' | 'leave', member: PresenceMember): void {
    const view = this.rooms.get(room);
    if (view === undefined || member.client.startsWith(`${this.serverId}:`)) return;
    const before = view.remote.get(member.client);
    const name = change === 'join' ? nameOf(member.info) : undefined;
    if (name === undefined) view.remote.delete(member.client);
    else view.remote.set(member.client, name);
    if (before === name) return;
    const added: string[] = [];
    const removed: string[] = [];
    if (before !== undefined) {
      const n = (view.names.get(before) ?? 1) - 1;
      if (n > 0) view.names.set(before, n);
      else {
        view.names.delete(before);
        removed.push(before);
      }
    }
    if (name !== undefined) {
      const n = view.names.get(name) ?? 0;
      view.names.set(name, n + 1);
      if (n === 0) added.push(name);
    }
    if (view.ready !== null) return; // the welcomes waiting for the list carry it
    if (added.length > 0 || removed.length > 0) this.options.onRemoteChange(room, added, removed);
  }
}

/** The name in a member's info, or undefined for anything malformed (ignored). */
function nameOf(info: unknown): string | undefined {
  const name = (info as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_REMOTE_NAME ? name : undefined;
}
