/**
 * The history and presence of topics held in memory, for InMemoryBroker: the servers of one process.
 * Each topic keeps its retained messages in offset order, the keys of those messages (so that a
 * publish sent again is not stored twice) and its presence members. Its epoch is made when its
 * state is created: a new process (or a topic whose state was discarded) has a new one.
 */
import { randomBytes } from 'node:crypto';
import type {
  Appended,
  AppendRequest,
  HistoryRange,
  PresenceMember,
  RetainedMessage,
  Retention,
} from './sequenced.js';

interface Entry extends RetainedMessage {
  time: number;
  key: string | undefined;
  noCompress: boolean;
}

/** A random string naming one life of a topic's history. */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

/** One topic's history, trimmed to its retention when it grows and when it is read. */
export class TopicHistory {
  readonly epoch = newEpoch();
  last = 0;
  private entries: Entry[] = [];
  /** Index of the oldest retained entry in `entries` (shifting an array is O(n); this is O(1)). */
  private start = 0;
  private readonly keys = new Map<string, number>();
  readonly members = new Map<string, PresenceMember>();
  /** The retention last asked for, to trim when the topic is idle. */
  private retention: Retention | null = null;

  /** Stores a message and returns its offset, or the offset of the stored message with the same key. */
  append(request: AppendRequest, now: number): Appended & { entry: Entry | null } {
    this.retention = request.retention;
    this.trim(request.retention, now);
    const key = request.key;
    if (key !== undefined) {
      const offset = this.keys.get(key);
      if (offset !== undefined) return { offset, epoch: this.epoch, duplicate: true, entry: null };
    }
    const entry: Entry = {
      offset: ++this.last,
      data: request.data,
      isBinary: request.isBinary,
      time: now,
      key,
      noCompress: request.noCompress === true,
    };
    if (request.retention.maxCount > 0 && request.retention.maxAge > 0) {
      this.entries.push(entry);
      if (key !== undefined) this.keys.set(key, entry.offset);
      this.trim(request.retention, now);
    }
    return { offset: entry.offset, epoch: this.epoch, duplicate: false, entry };
  }

  read(after: number, retention: Retention, now: number): HistoryRange {
    this.retention = retention;
    this.trim(retention, now);
    const { entries, start } = this;
    const first = start < entries.length ? entries[start].offset : this.last + 1;
    // Offsets are consecutive in `entries`: the one after `after` is at a known index.
    const from = start + Math.max(0, after + 1 - first);
    const messages: RetainedMessage[] = [];
    for (let i = from; i < entries.length; i++) {
      const e = entries[i];
      messages.push({ offset: e.offset, data: e.data, isBinary: e.isBinary });
    }
    return { epoch: this.epoch, last: this.last, first, messages };
  }

  /**
   * Whether the topic holds nothing worth keeping its epoch for (no message retained, no member):
   * its state can go, and the topic starts a new epoch if it is used again.
   */
  discardable(now: number): boolean {
    if (this.retention !== null) this.trim(this.retention, now);
    return this.start >= this.entries.length && this.members.size === 0;
  }

  private trim(retention: Retention, now: number): void {
    const { entries } = this;
    const oldest = now - retention.maxAge;
    let start = this.start;
    while (
      start < entries.length &&
      (entries.length - start > retention.maxCount || entries[start].time <= oldest)
    ) {
      const key = entries[start].key;
      if (key !== undefined) this.keys.delete(key);
      start++;
    }
    if (start > 64 && start * 2 > entries.length) {
      this.entries = entries.slice(start);
      start = 0;
    }
    this.start = start;
  }
}
