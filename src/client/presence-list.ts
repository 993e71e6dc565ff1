/**
 * The members of one topic's presence, as the client knows them: the list a `presence` reply gave,
 * with the `join` and `leave` deltas that came after it applied. Until a list arrives, deltas are
 * kept too (a list replaces them all when it comes).
 */
import type { Member } from './wire.js';

export class PresenceList<I = unknown> {
  private readonly members = new Map<string, Member<I>>();
  /** Whether a whole list has arrived since the last (re)subscription. */
  known = false;

  /** The members now, in the order they joined. */
  list(): Member<I>[] {
    return [...this.members.values()];
  }

  /** A `presence` reply: the whole list. */
  replace(members: readonly Member<I>[]): void {
    this.members.clear();
    for (const member of members) this.members.set(member.client, member);
    this.known = true;
  }

  /** A `join`; returns false if the member was already there with the same info. */
  join(member: Member<I>): boolean {
    const before = this.members.get(member.client);
    this.members.set(member.client, member);
    return before === undefined || JSON.stringify(before.info) !== JSON.stringify(member.info);
  }

  /** A `leave`; returns whether the member was there. */
  leave(member: Member<I>): boolean {
    return this.members.delete(member.client);
  }

  /** The connection was lost: the list is kept, but out of date until the next reply replaces it. */
  stale(): void {
    this.known = false;
  }
}
