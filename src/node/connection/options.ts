import type { MaskGenerator } from '../../protocol/mask-key-source.js';
import { nonNegative } from '../options-check.js';

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
  /**
   * Do not check that incoming text and close reasons are UTF-8 (ws's option; RFC 6455 requires the
   * check: only for peers you trust). Default false.
   */
  skipUTF8Validation?: boolean;
  /**
   * The most chunks of input one frame may arrive in; more close the connection with 1008
   * (WS_ERR_TOO_MANY_BUFFERED_PARTS), as in ws 8.21. Default 0: no limit (wskit's memory for a frame
   * is bounded by its size however it arrives; ws's default is 262,144).
   */
  maxBufferedChunks?: number;
  /**
   * The most frames one message may arrive in; more close the connection with 1008
   * (WS_ERR_TOO_MANY_BUFFERED_PARTS), as in ws 8.21. Default 0: no limit (ws's default is 16,384).
   */
  maxFragments?: number;
  /** Heartbeat; false disables it. Default: on for servers (30 s / 30 s), off for clients. */
  heartbeat?: HeartbeatOptions | boolean;
  /** How long (ms) to wait for the peer's Close frame / TCP close after sending ours. Default 30,000. */
  closeTimeout?: number;
  /** send() returns false once this many bytes are buffered; 'drain' fires when the buffer empties. Default 16 KiB. */
  highWaterMark?: number;
  /**
   * When more than this many bytes wait to be sent (everything wskit writes: messages, pings, pongs,
   * the Close, published messages), wskit stops reading from the peer until they drain below
   * `highWaterMark`: a peer that sends without reading (a ping flood) is held back by TCP. Default
   * 1 MiB (0 = never stop reading).
   */
  readPauseBufferedAmount?: number;
  /** When more than this many bytes wait to be sent, the connection is closed with 1008. Default 64 MiB (0 = no limit). */
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
export const DEFAULT_READ_PAUSE_BUFFERED_AMOUNT = 1024 * 1024;
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

export function checkConnectionOptions(options: ConnectionOptions): void {
  nonNegative('maxPayload', options.maxPayload);
  nonNegative('closeTimeout', options.closeTimeout);
  nonNegative('highWaterMark', options.highWaterMark);
  nonNegative('maxBufferedAmount', options.maxBufferedAmount);
  nonNegative('readPauseBufferedAmount', options.readPauseBufferedAmount);
  nonNegative('inflateBudget', (options as { inflateBudget?: unknown }).inflateBudget);
  nonNegative('fragmentSize', options.fragmentSize);
  nonNegative('maxBufferedChunks', options.maxBufferedChunks);
  nonNegative('maxFragments', options.maxFragments);
}
