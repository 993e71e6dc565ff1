import { argumentError } from '../protocol/errors.js';

/** Throws WS_ERR_INVALID_ARGUMENT unless `value` is a finite number ≥ min (or undefined). */
export function nonNegative(name: string, value: unknown, min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw argumentError(`Option ${name} must be a number ≥ ${min}; got ${String(value)}`);
  }
}
