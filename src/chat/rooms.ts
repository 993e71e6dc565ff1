/**
 * Who is in which room on this server. Names are unique within a room, regardless of case ("Ann" and
 * "ann" are the same name); the same person may be in one room only per connection (the server
 * enforces that, not this map).
 */
export interface Member {
  readonly name: string;
}

export class Rooms<M extends Member> {
  private readonly rooms = new Map<string, Map<string, M>>();

  /** The member of `room` called `name` (in any case), if any. */
  find(room: string, name: string): M | undefined {
    return this.rooms.get(room)?.get(nameKey(name));
  }

  /** Adds a member; the caller checked that the name is free (find()). */
  add(room: string, member: M): void {
    let members = this.rooms.get(room);
    if (members === undefined) this.rooms.set(room, (members = new Map()));
    members.set(nameKey(member.name), member);
  }

  /** Removes a member; returns whether it was there. An empty room is forgotten. */
  remove(room: string, member: M): boolean {
    const members = this.rooms.get(room);
    const key = nameKey(member.name);
    if (members?.get(key) !== member) return false;
    members.delete(key);
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  members(room: string): Iterable<M> {
    return this.rooms.get(room)?.values() ?? [];
  }

  /** The names in `room`, sorted. */
  names(room: string): string[] {
    return sortNames([...this.members(room)].map((m) => m.name));
  }

  /** The rooms with at least one member. */
  list(): string[] {
    return [...this.rooms.keys()];
  }
}

export function nameKey(name: string): string {
  return name.toLocaleLowerCase('en-US');
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/** Names sorted for people (case and accents ignored, numbers in order), without duplicates. */
export function sortNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort(collator.compare);
}
