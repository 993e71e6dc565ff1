import { argumentError } from '../../protocol/errors.js';
import {
  type ResolvedNegotiationOptions,
  resolveNegotiationOptions,
} from '../../protocol/permessage-deflate.js';
import { nonNegative } from '../options-check.js';
import type { PerMessageDeflateOptions } from './codec.js';

/** permessage-deflate settings of a server or client, checked and with defaults filled in. */
export interface ResolvedDeflate {
  negotiation: ResolvedNegotiationOptions;
  codec: PerMessageDeflateOptions;
  /** Messages smaller than this are sent uncompressed. */
  threshold: number;
  concurrencyLimit: number;
}

/** Reads the `perMessageDeflate` option (true, false or an object); null when off. */
export function resolveDeflate(
  value: boolean | object | undefined,
  byDefault: boolean,
  role: 'server' | 'client',
): ResolvedDeflate | null {
  if (value === false || (value === undefined && !byDefault)) return null;
  if (value !== true && value !== undefined && (typeof value !== 'object' || value === null)) {
    throw argumentError(
      'Option perMessageDeflate must be true, false or an object of permessage-deflate options',
    );
  }
  const options = (typeof value === 'object' ? value : {}) as PerMessageDeflateOptions;
  nonNegative('perMessageDeflate.threshold', options.threshold);
  nonNegative('perMessageDeflate.syncLimit', options.syncLimit);
  nonNegative('perMessageDeflate.concurrencyLimit', options.concurrencyLimit, 1);
  const level = options.level ?? options.zlibDeflateOptions?.level;
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
    throw argumentError(
      `Option perMessageDeflate.level must be an integer from 0 to 9; got ${String(level)}`,
    );
  }
  const memLevel = options.memLevel ?? options.zlibDeflateOptions?.memLevel;
  if (memLevel !== undefined && !(Number.isInteger(memLevel) && memLevel >= 1 && memLevel <= 9)) {
    throw argumentError(
      `Option perMessageDeflate.memLevel must be an integer from 1 to 9; got ${String(memLevel)}`,
    );
  }
  return {
    negotiation: resolveNegotiationOptions(options, role),
    codec: options,
    threshold: options.threshold ?? 1024,
    concurrencyLimit: options.concurrencyLimit ?? 10,
  };
}
