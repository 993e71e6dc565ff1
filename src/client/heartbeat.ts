/**
 * The application-level heartbeat's policy (browsers cannot send WebSocket Pings): after `interval`
 * ms without hearing from the server, send a `ping`; if nothing at all arrives within `timeout` ms
 * of it, the connection is dead. Anything received counts as a sign of life. Pure: the caller gives
 * the clock and runs the timer.
 */
import { argumentError } from './errors.js';

export interface HeartbeatOptions {
  /** Milliseconds of silence from the server after which the client sends a `ping`. Default 25,000. */
  interval?: number;
  /** Milliseconds to wait for anything after a `ping` before dropping the connection. Default 10,000. */
  timeout?: number;
}

export const DEFAULT_HEARTBEAT: Required<HeartbeatOptions> = { interval: 25_000, timeout: 10_000 };

export type HeartbeatAction = 'ping' | 'dead' | null;

export class HeartbeatMonitor {
  readonly interval: number;
  readonly timeout: number;
  private lastReceived = 0;
  private pingSentAt: number | null = null;

  constructor(options: HeartbeatOptions = {}) {
    const { interval, timeout } = { ...DEFAULT_HEARTBEAT, ...options };
    for (const [key, value] of [
      ['interval', interval],
      ['timeout', timeout],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) {
        throw argumentError(`heartbeat.${key} must be a number of milliseconds > 0; got ${String(value)}`);
      }
    }
    this.interval = interval;
    this.timeout = timeout;
  }

  /** A connection opened at `now`. */
  start(now: number): void {
    this.lastReceived = now;
    this.pingSentAt = null;
  }

  /** Something arrived from the server at `now`. */
  received(now: number): void {
    this.lastReceived = now;
    this.pingSentAt = null;
  }

  /** What to do at `now`, and in how many ms to check again. */
  check(now: number): { action: HeartbeatAction; next: number } {
    if (this.pingSentAt !== null) {
      const waited = now - this.pingSentAt;
      if (waited >= this.timeout) return { action: 'dead', next: this.timeout };
      return { action: null, next: this.timeout - waited };
    }
    const silent = now - this.lastReceived;
    if (silent >= this.interval) {
      this.pingSentAt = now;
      return { action: 'ping', next: this.timeout };
    }
    return { action: null, next: this.interval - silent };
  }
}
