/**
 * A server's live view of one durable topic's presence (`server.durable.watchPresence()`): the
 * members on every server sharing the broker, kept from join and leave deltas after one read of the
 * list. The list is read once the broker's subscription to the topic is effective; deltas that
 * arrive while it is read are applied after it, in order: the last change of each member wins, so a
 * leave that overtakes the list it happened after leaves no ghost. After a broker outage (deltas may
 * have been lost) the list is read again and the difference reported.
 */
import type { PresenceChange, PresenceMember } from './sequenced.js';

export type PresenceListener = (change: PresenceChange, member: PresenceMember) => void;

/** What a PresenceWatch needs of DurableTopics. */
export interface PresenceSource {
  /** Reads the topic's members, once the broker's subscription to it is effective. */
  readMembers(topic: string): Promise<PresenceMember[]>;
  /** The watch is closed: the topic need not be held for it any more. */
  unwatch(watch: PresenceWatch): void;
  /** Reading the members failed: told to the server ('brokerError'); read again after the outage. */
  readFailed(error: Error): void;
}

export class PresenceWatch {
  readonly topic: string;
  private readonly source: PresenceSource;
  private readonly listener: PresenceListener;
  private readonly current = new Map<string, PresenceMember>();
  /** Deltas that arrived while the list is being read; null when the list is known. */
  private pending: [PresenceChange, PresenceMember][] | null = [];
  private loading = false;
  private closed = false;
  /** Resolves once the members were read the first time (and the listener told of each). */
  readonly ready: Promise<void>;
  private resolveReady: () => void = () => {};

  /** @internal Made by DurableTopics.watchPresence(). */
  constructor(topic: string, source: PresenceSource, listener: PresenceListener) {
    this.topic = topic;
    this.source = source;
    this.listener = listener;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.load();
  }

  /** The members now, by client (empty until `ready`). */
  get members(): ReadonlyMap<string, PresenceMember> {
    return this.current;
  }

  /** Stops watching: the listener is not called any more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    this.source.unwatch(this);
  }

  /** @internal A join or a leave of the topic. */
  changed(change: PresenceChange, member: PresenceMember): void {
    if (this.closed) return;
    if (this.pending !== null) this.pending.push([change, member]);
    else this.apply(change, member);
  }

  /** @internal The broker is back after an outage: the deltas sent meanwhile may be lost. */
  reload(): void {
    if (this.closed || this.loading) return;
    this.pending ??= [];
    this.load();
  }

  private load(): void {
    this.loading = true;
    this.source.readMembers(this.topic).then(
      (members) => {
        this.loading = false;
        if (this.closed) return;
        const pending = this.pending ?? [];
        this.pending = null;
        const read = new Map(members.map((m) => [m.client, m]));
        for (const [client, member] of [...this.current]) {
          if (!read.has(client)) this.apply('leave', member);
        }
        for (const member of read.values()) this.apply('join', member);
        for (const [change, member] of pending) this.apply(change, member);
        this.resolveReady();
      },
      (err: Error) => {
        this.loading = false;
        if (this.closed) return;
        // Kept buffering: the next reload (the broker back) reads the list again.
        this.source.readFailed(err);
      },
    );
  }

  /** Applies a change to the members; the listener hears of those that change something. */
  private apply(change: PresenceChange, member: PresenceMember): void {
    const known = this.current.get(member.client);
    if (change === 'leave') {
      if (known === undefined) return;
      this.current.delete(member.client);
      this.listener('leave', known);
      return;
    }
    if (known !== undefined && JSON.stringify(known.info) === JSON.stringify(member.info)) return;
    this.current.set(member.client, member);
    this.listener('join', member);
  }
}
