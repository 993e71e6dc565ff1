/** A connection kept by a Heartbeat: it keeps its own times and does its own check. */
export interface HeartbeatMember {
  /** Joins `heartbeat` at `now` (ms since its epoch). */
  heartbeatJoin(heartbeat: Heartbeat, now: number): void;
  /**
   * One tick at `t` (ms since the epoch, never 0): a member silent for `interval` ms sends a ping; one
   * whose ping got nothing back within `timeout` ms terminates itself.
   */
  heartbeatCheck(t: number, interval: number, timeout: number): void;
  /** The epoch moved forward by `shift` ms: move the member's times back by as much, staying within `keep` ms. */
  heartbeatRebase(shift: number, keep: number): void;
}

/**
 * Keeps connections honest with one timer for all of them (a server's, or a client's own): a peer
 * silent for `interval` ms is pinged; if nothing at all arrives within `timeout` ms after the ping it is
 * terminated (the close event reports 1006). Any data counts as a sign of life, so busy connections are
 * never pinged; nor are paused ones. This is the whole "isAlive" recipe of ws's README, built in.
 */
/** Times are rebased before they reach this many ms after the epoch (they stay 32-bit integers). */
const REBASE_AFTER = 2 ** 30;

export class Heartbeat {
  private readonly members = new Set<HeartbeatMember>();
  private timer: NodeJS.Timeout | null = null;
  /**
   * Times on connections are kept as ms since this moment, as 32-bit integers: V8 stores those inside
   * the object, where a Date.now() value would be a separate 16-byte number per connection. The epoch
   * moves forward (see clock) long before they could overflow.
   */
  private epoch = Date.now();
  readonly interval: number;
  readonly timeout: number;

  constructor(interval: number, timeout: number) {
    this.interval = interval;
    this.timeout = timeout;
  }

  add(member: HeartbeatMember): void {
    member.heartbeatJoin(this, this.clock(Date.now()));
    this.members.add(member);
    if (this.timer === null) {
      const period = Math.max(5, Math.floor(Math.min(this.interval, this.timeout) / 4));
      this.timer = setInterval(tick, period, this);
      this.timer.unref();
    }
  }

  delete(member: HeartbeatMember): void {
    this.members.delete(member);
    if (this.members.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * @internal `now` (from Date.now()) as ms since the epoch, a 32-bit integer. Past 2^30 ms (12 days)
   * the epoch moves up to `now` less the longest span compared, and every member's times with it.
   */
  clock(now: number): number {
    const t = now - this.epoch;
    if (t < REBASE_AFTER) return t | 0;
    const keep = this.interval + this.timeout;
    const shift = t - keep;
    this.epoch += shift;
    for (const member of this.members) member.heartbeatRebase(shift, keep);
    return keep | 0;
  }

  /** @internal `now` from Date.now(). */
  check(now: number): void {
    // Never 0, which marks "no ping out".
    const t = Math.max(1, this.clock(now));
    for (const member of this.members) member.heartbeatCheck(t, this.interval, this.timeout);
  }
}

function tick(heartbeat: Heartbeat): void {
  heartbeat.check(Date.now());
}
