/**
 * The publishes a client has not had acknowledged yet, in the order they were made: those waiting for
 * a connection and those sent and not acked (which are sent again, with the same key, after a
 * reconnect). Bounded in messages and in bytes of payload; a publish past either bound is refused.
 */
import { TopicsError } from './errors.js';
import type { Position } from './wire.js';

export interface PublishResult extends Position {
  topic: string;
}

export interface PendingPublish {
  readonly topic: string;
  readonly data: string;
  readonly binary: boolean;
  readonly key: string;
  /** Bytes of payload counted against the bound. */
  readonly bytes: number;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: TopicsError) => void;
}

export interface BufferLimits {
  /** Most publishes waiting (unsent or unacknowledged). Default 1,000. */
  maxBufferedMessages?: number;
  /** Most bytes of payload waiting (UTF-8 of the text, or of the base64). Default 1 MiB. */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_MESSAGES = 1000;
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/** Bytes of `text` in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

export class PublishBuffer {
  readonly maxMessages: number;
  readonly maxBytes: number;
  private readonly entries = new Set<PendingPublish>();
  private bytes = 0;

  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Adds a publish, or throws TOPICS_ERR_BUFFER_FULL (leaving the buffer as it was). */
  add(entry: PendingPublish): void {
    if (this.entries.size + 1 > this.maxMessages) {
      throw new TopicsError(
        'TOPICS_ERR_BUFFER_FULL',
        `${this.entries.size} publishes are waiting for the server (maxBufferedMessages): wait for their acknowledgements, or raise the bound`,
        { topic: entry.topic },
      );
    }
    if (this.bytes + entry.bytes > this.maxBytes) {
      throw new TopicsError(
        'TOPICS_ERR_BUFFER_FULL',
        `${this.bytes} bytes are waiting for the server and this publish has ${entry.bytes} (maxBufferedBytes ${this.maxBytes}): wait for acknowledgements, or raise the bound`,
        { topic: entry.topic },
      );
    }
    this.entries.add(entry);
    this.bytes += entry.bytes;
  }

  /** Removes a publish (acknowledged or failed); returns whether it was there. */
  remove(entry: PendingPublish): boolean {
    if (!this.entries.delete(entry)) return false;
    this.bytes -= entry.bytes;
    return true;
  }

  /** The publishes waiting, oldest first. */
  all(): PendingPublish[] {
    return [...this.entries];
  }

  /** Fails every publish waiting, and empties the buffer. */
  rejectAll(error: TopicsError): void {
    const entries = this.all();
    this.entries.clear();
    this.bytes = 0;
    for (const entry of entries) entry.reject(error);
  }
}
