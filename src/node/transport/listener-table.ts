import { EventEmitter } from 'node:events';

/**
 * A listener table that V8 keeps as a small fast object. Node creates `_events` as
 * `{ __proto__: null }`, which V8 stores as a hash table of about 200 bytes, whether or not a
 * listener is ever added. A connection object has a few listeners, always the same event names, so
 * the fast form (an object literal, with room for four properties inside it, given a null prototype
 * afterwards) costs about 56 bytes; as with Node's table, no event name finds an inherited property.
 */
function listenerTable(): object {
  return Object.setPrototypeOf({}, null);
}

interface EmitterFields {
  _events?: unknown;
  _eventsCount?: unknown;
}

/**
 * The base of wskit's connection objects (WebSocket, LeanSocket): an EventEmitter (same prototype,
 * so `instanceof EventEmitter` holds and every method is Node's own) whose constructor gives the
 * new object a compact listener table straight away. Node's constructor would first make the
 * 200-byte table, then two fields for its internal capture-rejections and shape flags; without them
 * the emitter reads the capture flag (and `_maxListeners`, until setMaxListeners) from
 * EventEmitter.prototype, as Node's methods allow (they work on any object with `_events`). What
 * EventEmitter's constructor options do (captureRejections) is not offered here.
 */
export const CompactEventEmitter = function CompactEventEmitter(this: EmitterFields) {
  this._events = listenerTable();
  this._eventsCount = 0;
} as unknown as typeof EventEmitter;
CompactEventEmitter.prototype = EventEmitter.prototype;

/**
 * The same for an emitter that usually has no listeners at all (a LeanSocket, read by wskit through
 * its sink): no table until the first listener, when Node makes its own. Node's methods treat a
 * missing `_events` as an empty table.
 */
export const LazyEventEmitter = function LazyEventEmitter(this: EmitterFields) {
  this._events = undefined;
  this._eventsCount = 0;
} as unknown as typeof EventEmitter;
LazyEventEmitter.prototype = EventEmitter.prototype;

/**
 * Gives an EventEmitter that has no listeners a compact listener table (see listenerTable): for
 * sockets whose handshake listeners came and went. Does nothing if the emitter has listeners or
 * Node's EventEmitter no longer keeps them in `_events`.
 */
export function useCompactListenerTable(emitter: EventEmitter): void {
  const e = emitter as unknown as EmitterFields;
  if (typeof e._events !== 'object' || e._events === null || e._eventsCount !== 0) return;
  if (Object.getPrototypeOf(e._events) !== null) return;
  e._events = listenerTable();
}
