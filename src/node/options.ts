import { argumentError } from '../protocol/errors.js';
import type { MaskGenerator } from '../protocol/mask-key-source.js';

/** Heartbeat: ping a peer that has been silent for `interval` ms; terminate it if nothing arrives within `timeout` ms. */
export interface HeartbeatOptions {
  /** Silence (ms) after which the peer is pinged. Default 30,000. */
  interval?: number;
  /** How long (ms) to wait for any data (a Pong) after the ping before terminating. Default 30,000. */
  timeout?: number;
}

/** Options shared by both ends of a connection. */
export interface ConnectionOptions {
  /** Largest incoming message in bytes; bigger ones close the connection with 1009. Default 100 MiB (0 = no limit). */
  maxPayload?: number;
  /** Answer pings automatically. Default true. */
  autoPong?: boolean;
  /** Skip UTF-8 validation of incoming text (ws option; not recommended). Default false. */
  skipUTF8Validation?: boolean;
  /** Heartbeat; false disables it. Default: on for servers (30 s / 30 s), off for clients. */
  heartbeat?: HeartbeatOptions | boolean;
  /** How long (ms) to wait for the peer's Close frame / TCP close after sending ours. Default 30,000. */
  closeTimeout?: number;
  /** send() returns false once this many bytes are buffered; 'drain' fires when the buffer empties. Default 16 KiB. */
  highWaterMark?: number;
  /** When more than this many bytes are buffered for sending, the connection is closed with 1008. Default 64 MiB (0 = no limit). */
  maxBufferedAmount?: number;
  /** Split outgoing messages larger than this into frames of this size. Default 0 (never). */
  fragmentSize?: number;
  /** Accepted for ws compatibility; events are always emitted synchronously. */
  allowSynchronousEvents?: boolean;
  /** Custom masking keys for client frames (ws option). */
  generateMask?: MaskGenerator;
}

export const DEFAULT_CLOSE_TIMEOUT = 30_000;
export const DEFAULT_HIGH_WATER_MARK = 16 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 64 * 1024 * 1024;
export const DEFAULT_HEARTBEAT = { interval: 30_000, timeout: 30_000 } as const;

export function resolveHeartbeat(
  value: HeartbeatOptions | boolean | undefined,
  byDefault: boolean,
): { interval: number; timeout: number } | null {
  if (value === false || (value === undefined && !byDefault)) return null;
  const opts = value === true || value === undefined ? {} : value;
  const interval = opts.interval ?? DEFAULT_HEARTBEAT.interval;
  const timeout = opts.timeout ?? DEFAULT_HEARTBEAT.timeout;
  nonNegative('heartbeat.interval', interval, 1);
  nonNegative('heartbeat.timeout', timeout, 1);
  return { interval, timeout };
}

/** Throws WS_ERR_INVALID_ARGUMENT unless `value` is a finite number ≥ min (or undefined). */
export function nonNegative(name: string, value: unknown, min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw argumentError(`Option ${name} must be a number ≥ ${min}; got ${String(value)}`);
  }
}

export function checkConnectionOptions(options: ConnectionOptions): void {
  nonNegative('maxPayload', options.maxPayload);
  nonNegative('closeTimeout', options.closeTimeout);
  nonNegative('highWaterMark', options.highWaterMark);
  nonNegative('maxBufferedAmount', options.maxBufferedAmount);
  nonNegative('fragmentSize', options.fragmentSize);
}
