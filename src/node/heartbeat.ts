import { WebSocketError } from '../protocol/errors.js';
import type { WebSocket } from './websocket.js';

/**
 * Keeps connections honest with one timer for all of them (a server's, or a client's own): a peer
 * silent for `interval` ms is pinged; if nothing at all arrives within `timeout` ms after the ping it is
 * terminated (the close event reports 1006). Any data counts as a sign of life, so busy connections are
 * never pinged; nor are paused ones. This is the whole "isAlive" recipe of ws's README, built in.
 */
export class Heartbeat {
  private readonly members = new Set<WebSocket>();
  private timer: NodeJS.Timeout | null = null;
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
    ws._hbIdleSince = Date.now();
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

  /** @internal */
  check(now: number): void {
    for (const ws of this.members) {
      // A connection the application paused is not read: its silence says nothing about the peer.
      if (ws._hbSeen || ws.isPaused) {
        ws._hbSeen = false;
        ws._hbPingAt = 0;
        ws._hbIdleSince = now;
      } else if (ws._hbPingAt !== 0) {
        if (now - ws._hbPingAt >= this.timeout) {
          this.delete(ws);
          ws.emitError(
            new WebSocketError(
              'WS_ERR_HEARTBEAT_TIMEOUT',
              `No answer to a ping within ${this.timeout} ms: the connection was terminated`,
            ),
          );
          ws.terminate();
        }
      } else if (now - ws._hbIdleSince >= this.interval && ws.readyState === ws.OPEN) {
        ws._hbPingAt = now;
        ws.ping();
      }
    }
  }
}

function tick(heartbeat: Heartbeat): void {
  heartbeat.check(Date.now());
}
