import type { Duplex } from 'node:stream';
import { abortHandshake } from './abort-handshake.js';

/**
 * The opening-handshake time limit of a server's sockets, with one timer for all of them instead of a
 * timer (and a 'close' listener) per connection: sockets are kept in arrival order with their deadline,
 * and a sweep every quarter of the limit answers 408 to those past it (so a socket is dropped between
 * `timeout` and 1.25 x `timeout` after it connected). Sockets that closed meanwhile are just forgotten.
 */
export class HandshakeDeadlines {
  private readonly pending = new Map<Duplex, number>();
  private timer: NodeJS.Timeout | null = null;
  readonly timeout: number;
  /** Most sockets waiting at once (0: no limit). */
  readonly max: number;

  /** `timeout` in ms; 0 means no limit. `max`: most sockets pending at once, 0 for no limit. */
  constructor(timeout: number, max = 0) {
    this.timeout = timeout;
    this.max = max;
  }

  /**
   * A new connection: starts its clock, or returns false (and leaves it alone) when `max` sockets
   * are already waiting for their handshake.
   */
  admit(socket: Duplex): boolean {
    if (this.max > 0 && this.pending.size >= this.max && !this.pending.has(socket)) return false;
    this.add(socket);
    return true;
  }

  /** Starts the clock for a socket (once: a second call keeps the first deadline). */
  add(socket: Duplex): void {
    if (this.pending.has(socket)) return;
    this.pending.set(socket, this.timeout > 0 ? Date.now() + this.timeout : Number.POSITIVE_INFINITY);
    if (this.timeout > 0 && this.timer === null) {
      this.timer = setInterval(sweep, Math.max(1, Math.floor(this.timeout / 4)), this);
      this.timer.unref();
    }
  }

  /** The handshake of this socket completed, or was refused: no deadline any more. */
  delete(socket: Duplex): void {
    this.pending.delete(socket);
  }

  get size(): number {
    return this.pending.size;
  }

  /** @internal Answers 408 to every socket past its deadline; stops the timer when none is left. */
  sweep(now: number): void {
    for (const [socket, deadline] of this.pending) {
      if (socket.destroyed) {
        this.pending.delete(socket);
        continue;
      }
      if (deadline > now) break; // the rest arrived later
      this.pending.delete(socket);
      abortHandshake(socket, 408, 'Opening handshake timed out');
    }
    if (this.pending.size === 0) this.stop();
  }

  /** Answers `status` to every socket whose handshake is pending (a server closing down). */
  abortAll(status: number, message: string): void {
    const sockets = [...this.pending.keys()];
    this.pending.clear();
    this.stop();
    for (const socket of sockets) if (!socket.destroyed) abortHandshake(socket, status, message);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function sweep(deadlines: HandshakeDeadlines): void {
  deadlines.sweep(Date.now());
}
