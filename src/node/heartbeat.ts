import { WebSocketError } from '../protocol/errors.js';
import type { WebSocket } from './websocket.js';

/**
 * Keeps connections honest with one timer for all of them (a server's, or a client's own): a peer
 * silent for `interval` ms is pinged; if nothing at all arrives within `timeout` ms after the ping it is
 * terminated (the close event reports 1006). Any data counts as a sign of life, so busy connections are
 * never pinged; nor are paused ones. This is the whole "isAlive" recipe of ws's README, built in.
 */
/** Times are rebased before they reach this many ms after the epoch (they stay 32-bit integers). */
const REBASE_AFTER = 2 ** 30;

export class Heartbeat {
  private readonly members = new Set<WebSocket>();
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

  add(ws: WebSocket): void {
    ws._heartbeat = this;
    ws._hbSeen = false;
    ws._hbPingAt = 0;
    ws._hbIdleSince = this.clock(Date.now());
    this.members.add(ws);
    if (this.timer === null) {
      const period = Math.max(5, Math.floor(Math.min(this.interval, this.timeout) / 4));
      this.timer = setInterval(tick, period, this);
      this.timer.unref();
    }
  }

  delete(ws: WebSocket): void {
    this.members.delete(ws);
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
    for (const ws of this.members) {
      ws._hbIdleSince = Math.max(ws._hbIdleSince - shift, -keep) | 0;
      if (ws._hbPingAt !== 0) ws._hbPingAt = Math.max(ws._hbPingAt - shift, 1) | 0;
    }
    return keep | 0;
  }

  /** @internal `now` from Date.now(). */
  check(now: number): void {
    // Never 0, which marks "no ping out".
    const t = Math.max(1, this.clock(now));
    for (const ws of this.members) {
      // A connection the application paused is not read: its silence says nothing about the peer.
      if (ws._hbSeen || ws.isPaused) {
        ws._hbSeen = false;
        ws._hbPingAt = 0;
        ws._hbIdleSince = t;
      } else if (ws._hbPingAt !== 0) {
        if (t - ws._hbPingAt >= this.timeout) {
          this.delete(ws);
          ws.emitError(
            new WebSocketError(
              'WS_ERR_HEARTBEAT_TIMEOUT',
              `No answer to a ping within ${this.timeout} ms: the connection was terminated`,
            ),
          );
          ws.terminate();
        }
      } else if (t - ws._hbIdleSince >= this.interval && ws.readyState === ws.OPEN) {
        ws._hbPingAt = t;
        ws.ping();
      }
    }
  }
}

function tick(heartbeat: Heartbeat): void {
  heartbeat.check(Date.now());
}
