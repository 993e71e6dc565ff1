import type { EventEmitter } from 'node:events';
import {
  CloseEvent,
  ErrorEvent,
  Event,
  type EventListenerLike,
  MessageEvent,
  setEventTarget,
} from './events.js';

export type BrowserEventType = 'open' | 'message' | 'close' | 'error';

/** Marks EventEmitter listeners registered through addEventListener or an on* attribute. */
const LISTENER = Symbol('wskit.listener');
const ATTRIBUTE = Symbol('wskit.attribute');

interface WrappedListener {
  (...args: unknown[]): void;
  [LISTENER]: unknown;
  [ATTRIBUTE]?: boolean;
}

export interface BrowserEventSource extends EventEmitter {
  /** Whether the close was clean (both Close frames exchanged), for CloseEvent.wasClean. */
  readonly wasClean: boolean;
}

function isBrowserType(type: string): type is BrowserEventType {
  return type === 'open' || type === 'message' || type === 'close' || type === 'error';
}

function wrap(
  source: BrowserEventSource,
  type: BrowserEventType,
  listener: EventListenerLike<never>,
  attribute: boolean,
) {
  const call = (event: Event) => {
    setEventTarget(event, source);
    if (typeof listener === 'function') listener.call(source, event as never);
    else listener.handleEvent.call(listener, event as never);
  };
  let wrapped: WrappedListener;
  switch (type) {
    case 'open':
      wrapped = (() => call(new Event('open'))) as WrappedListener;
      break;
    case 'message':
      wrapped = ((data: unknown, isBinary: boolean) =>
        call(
          new MessageEvent('message', { data: isBinary ? data : (data as Buffer).toString() }),
        )) as WrappedListener;
      break;
    case 'close':
      wrapped = ((code: number, reason: Buffer) =>
        call(
          new CloseEvent('close', { code, reason: reason.toString(), wasClean: source.wasClean }),
        )) as WrappedListener;
      break;
    case 'error':
      wrapped = ((error: unknown) =>
        call(
          new ErrorEvent('error', { error, message: error instanceof Error ? error.message : String(error) }),
        )) as WrappedListener;
      break;
  }
  wrapped[LISTENER] = listener;
  if (attribute) wrapped[ATTRIBUTE] = true;
  return wrapped;
}

/** addEventListener(type, listener, { once }) on top of an EventEmitter, as ws does it. */
export function addEventListener(
  source: BrowserEventSource,
  type: string,
  listener: EventListenerLike<never> | null | undefined,
  options: { once?: boolean } = {},
): void {
  if (listener == null || !isBrowserType(type)) return;
  for (const existing of source.listeners(type) as WrappedListener[]) {
    if (existing[LISTENER] === listener && !existing[ATTRIBUTE]) return;
  }
  const wrapped = wrap(source, type, listener, false);
  if (options.once) source.once(type, wrapped);
  else source.on(type, wrapped);
}

export function removeEventListener(source: BrowserEventSource, type: string, listener: unknown): void {
  for (const existing of source.listeners(type) as WrappedListener[]) {
    if (existing[LISTENER] === listener && !existing[ATTRIBUTE]) {
      source.removeListener(type, existing);
      return;
    }
  }
}

/** The listener set through an on* attribute, or null. */
export function getAttributeListener(source: BrowserEventSource, type: BrowserEventType): unknown {
  for (const existing of source.listeners(type) as WrappedListener[]) {
    if (existing[ATTRIBUTE]) return existing[LISTENER];
  }
  return null;
}

export function setAttributeListener(
  source: BrowserEventSource,
  type: BrowserEventType,
  handler: unknown,
): void {
  for (const existing of source.listeners(type) as WrappedListener[]) {
    if (existing[ATTRIBUTE]) source.removeListener(type, existing);
  }
  if (typeof handler === 'function')
    source.on(type, wrap(source, type, handler as EventListenerLike<never>, true));
}
