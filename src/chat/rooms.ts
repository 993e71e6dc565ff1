/**
 * Who is in which room on this server. Names are unique within a room by their skeleton: "Ann",
 * "ann" and "Аnn" (with a Cyrillic А) are the same name (name-skeleton.ts). The same person may be in
 * one room only per connection (the server enforces that, not this map).
 */
import { nameSkeleton } from './name-skeleton.js';

export interface Member {
  readonly name: string;
}

export class Rooms<M extends Member> {
  /** room → skeleton of the name → member */
  private readonly rooms = new Map<string, Map<string, M>>();

  /** The member of `room` whose name looks like `name` (same skeleton), if any. */
  find(room: string, name: string): M | undefined {
    return this.rooms.get(room)?.get(nameSkeleton(name));
  }

  /** Whether someone in `room` is called exactly `name`. */
  hasName(room: string, name: string): boolean {
    return this.find(room, name)?.name === name;
  }

  /** Adds a member; the caller checked that the name is free (find()). */
  add(room: string, member: M): void {
    let members = this.rooms.get(room);
    if (members === undefined) this.rooms.set(room, (members = new Map()));
    members.set(nameSkeleton(member.name), member);
  }

  /** Removes a member; returns whether it was there. An empty room is forgotten. */
  remove(room: string, member: M): boolean {
    const members = this.rooms.get(room);
    const key = nameSkeleton(member.name);
    if (members?.get(key) !== member) return false;
    members.delete(key);
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  /** How many members `room` has. */
  size(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  members(room: string): Iterable<M> {
    return this.rooms.get(room)?.values() ?? [];
  }

  /** The names in `room`, in no particular order. */
  names(room: string): string[] {
    return [...this.members(room)].map((m) => m.name);
  }

  /** The rooms with at least one member. */
  list(): string[] {
    return [...this.rooms.keys()];
  }
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/** Names sorted for people (case and accents ignored, numbers in order), without duplicates. */
export function sortNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort(collator.compare);
}
