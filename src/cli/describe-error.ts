/**
 * One readable line for an error from the network or the library. A connection attempt to a name with
 * several addresses fails with an AggregateError whose own message is empty: its parts say what happened.
 */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // A wskit error's message is ws's text; its detail says what was received: both, for a person.
    const detail = (err as { detail?: unknown }).detail;
    if (err.message !== '' && typeof detail === 'string') return `${err.message} (${detail})`;
    if (err.message !== '') return err.message;
    if (typeof code === 'string') return code;
  }
  return String(err);
}
