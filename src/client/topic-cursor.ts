/**
 * Where a client is in one topic, and what to do with each message of it: deliver it, drop it (a
 * duplicate: an offset already processed, in the same epoch), or notice that some are missing.
 *
 * After `subscribed`, the messages up to its `offset` are a replay (history or resume), the ones
 * after it are live. A replay may start anywhere (the last `history` messages, or what the retention
 * kept); from the first live message on, offsets must follow each other: a jump means messages were
 * lost on the way, and the caller resubscribes with `since` (the cursor then holds messages back
 * until the new `subscribed`, so that none is delivered out of order).
 */
import type { Gap, Position } from './wire.js';

export type Verdict =
  /** Deliver it; `replayed` tells whether it came from the history (offset ≤ the subscribed offset). */
  | { kind: 'deliver'; replayed: boolean; gap?: CursorGap }
  /** Already processed (same epoch, offset not after the last one): drop it. */
  | { kind: 'duplicate' }
  /** Offsets `from`..`to` are missing: drop this one and resubscribe from `position()`. */
  | { kind: 'jump'; from: number; to: number }
  /** Waiting for a `subscribed` (not subscribed yet, or repairing a jump): drop it. */
  | { kind: 'ignore' };

/** A gap the application should hear of: messages it will never get. */
export interface CursorGap extends Gap {
  /** The epoch of the history the client is in now. */
  epoch: string;
}

export class TopicCursor {
  /** The epoch of the history the last offset belongs to (null before the first `subscribed`). */
  epoch: string | null = null;
  /** The last offset processed (0: none). */
  offset = 0;
  /** The topic's last offset when the current subscription took effect: the end of its replay. */
  private replayEnd = 0;
  /** Whether messages are accepted: between a `subscribed` and the connection's loss or a jump. */
  private live = false;

  /** Where to resume from after a reconnect: null if nothing was ever subscribed. */
  position(): Position | null {
    return this.epoch === null ? null : { offset: this.offset, epoch: this.epoch };
  }

  /** The connection was lost (or a jump seen): messages wait for the next `subscribed`. */
  suspend(): void {
    this.live = false;
  }

  /**
   * A `subscribed` arrived, for a subscribe sent with `since` (or, if `sent` is null, without it and
   * asking for `history` messages). Returns the gap to report, if any.
   */
  subscribed(
    sent: Position | null,
    reply: { epoch: string; offset: number; recovered: boolean; gap?: Gap },
    history = 0,
  ): CursorGap | null {
    this.live = true;
    this.replayEnd = reply.offset;
    if (sent === null) {
      // A first subscribe: the replay is the last `history` messages at most, all new; a reconnect
      // before they all arrived resumes after the last one processed.
      this.epoch = reply.epoch;
      this.offset = Math.max(0, reply.offset - history);
      return null;
    }
    if (reply.recovered && reply.epoch === sent.epoch) {
      this.epoch = reply.epoch;
      this.offset = sent.offset;
      return null;
    }
    const epochChanged = reply.epoch !== sent.epoch;
    const reason = reply.gap?.reason ?? (epochChanged ? 'epoch' : 'unavailable');
    const gap: CursorGap = { reason, epoch: reply.epoch };
    if (reply.gap?.from !== undefined) gap.from = reply.gap.from;
    if (reply.gap?.to !== undefined) gap.to = reply.gap.to;
    // gap.to is the last offset (of the epoch replied) that will not be sent: what follows it is new.
    // Without it: a new epoch starts over, the same epoch goes on after what was asked for.
    // In the same epoch the cursor never goes back (what was delivered stays delivered, even if a
    // live message of the new epoch came before this reply).
    this.epoch = reply.epoch;
    if (epochChanged) this.offset = gap.to ?? 0;
    else if (gap.to !== undefined) this.offset = Math.max(sent.offset, gap.to);
    else if (reason === 'epoch') this.offset = sent.offset;
    else {
      this.offset = Math.max(sent.offset, reply.offset);
      if (gap.from === undefined) gap.from = sent.offset + 1;
      gap.to = this.offset;
    }
    return gap;
  }

  /** What to do with a `message` of the topic. Delivering it moves the cursor. */
  accept(offset: number, epoch: string): Verdict {
    if (!this.live || this.epoch === null) return { kind: 'ignore' };
    if (epoch !== this.epoch) {
      // The history was lost under a live subscription (Redis flushed): a new life of the topic.
      const gap: CursorGap = { reason: 'epoch', epoch };
      this.epoch = epoch;
      this.offset = offset;
      this.replayEnd = 0;
      return { kind: 'deliver', replayed: false, gap };
    }
    if (offset <= this.offset) return { kind: 'duplicate' };
    if (offset <= this.replayEnd) {
      this.offset = offset;
      return { kind: 'deliver', replayed: true };
    }
    const expected = Math.max(this.offset, this.replayEnd) + 1;
    if (offset > expected) {
      this.offset = expected - 1;
      this.live = false;
      return { kind: 'jump', from: expected, to: offset - 1 };
    }
    this.offset = offset;
    return { kind: 'deliver', replayed: false };
  }
}
