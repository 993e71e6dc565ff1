/**
 * The ioredis side of RedisBroker: the part of a client it uses, the options of the clients it
 * creates, and loading ioredis, an optional peer dependency, only when a client must be created.
 */
import { WebSocketError } from '../protocol/errors.js';

/** The part of an ioredis client that RedisBroker uses; an ioredis `Redis` instance fits. */
export interface RedisClient {
  /** ioredis's connection status: 'wait', 'connecting', 'connect', 'ready', 'reconnecting', 'close', 'end'. */
  readonly status: string;
  connect(): Promise<void>;
  publish(channel: string, message: Buffer): Promise<number>;
  /** Any command, with Buffers in the reply (durable topics run their Lua scripts with it). */
  callBuffer(command: string, ...args: (string | Buffer | number)[]): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  duplicate(override?: Record<string, unknown>): RedisClient;
  // biome-ignore lint/suspicious/noExplicitAny: the listener type of Node's EventEmitter, which ioredis's is
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  off(event: string, listener: (...args: any[]) => void): unknown;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Commands are refused rather than queued while disconnected; in-flight ones fail when the connection drops. */
const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
};
export const PUBLISHER_DEFAULTS = { ...FAIL_FAST, connectionName: 'wskit-publisher' };
export const SUBSCRIBER_DEFAULTS = {
  ...FAIL_FAST,
  autoResubscribe: false,
  connectionName: 'wskit-subscriber',
};

export type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

/** The Redis class of ioredis, or a WebSocketError saying to install it. */
export async function loadIoredis(): Promise<RedisConstructor> {
  try {
    const ioredis = (await import('ioredis')) as unknown as { default: RedisConstructor };
    return ioredis.default;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    throw new WebSocketError(
      'WS_ERR_BROKER_UNAVAILABLE',
      missing
        ? 'RedisBroker needs the ioredis package (an optional peer dependency of wskit): npm install ioredis'
        : `RedisBroker could not load ioredis: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the Redis URL given';
  }
}
