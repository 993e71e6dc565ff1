import type { EventEmitter } from 'node:events';

/**
 * Gives a new EventEmitter a listener table that V8 keeps as a small fast object: Node creates it
 * as `{ __proto__: null }`, which V8 stores as a hash table of about 200 bytes, whether or not a
 * listener is ever added. A connection object has a few listeners, always the same event names, so
 * the fast form costs about 64 bytes; EventEmitter's methods work on either form. Does nothing if
 * the emitter already has listeners or Node's EventEmitter no longer keeps them in `_events`.
 */
export function useCompactListenerTable(emitter: EventEmitter): void {
  const e = emitter as unknown as { _events?: unknown; _eventsCount?: unknown };
  if (typeof e._events !== 'object' || e._events === null || e._eventsCount !== 0) return;
  if (Object.getPrototypeOf(e._events) !== null) return;
  e._events = Object.setPrototypeOf({}, null);
}
