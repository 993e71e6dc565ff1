/**
 * Browser-shaped events for addEventListener / onmessage and friends (the WHATWG WebSocket API):
 * MessageEvent.data, CloseEvent.code/reason/wasClean, ErrorEvent.error/message.
 */
const kTarget = Symbol('wskit.target');
const kType = Symbol('wskit.type');
const kCode = Symbol('wskit.code');
const kReason = Symbol('wskit.reason');
const kWasClean = Symbol('wskit.wasClean');
const kError = Symbol('wskit.error');
const kMessage = Symbol('wskit.message');
const kData = Symbol('wskit.data');

/** Sets the target of an event being dispatched (the WebSocket). */
export function setEventTarget(event: Event, target: unknown): void {
  (event as unknown as Record<symbol, unknown>)[kTarget] = target;
}

/** The events of ws's EventTarget: `new Event(type)`, with read-only `type` and `target`. */
export class Event {
  declare private [kTarget]: unknown;
  declare private [kType]: string;
  constructor(type: string) {
    this[kTarget] = null;
    this[kType] = type;
  }
  get target(): unknown {
    return this[kTarget];
  }
  get type(): string {
    return this[kType];
  }
}

export interface CloseEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** `new CloseEvent(type, { code, reason, wasClean })`; defaults 0, '' and false, as in ws. */
export class CloseEvent extends Event {
  declare private [kCode]: number;
  declare private [kReason]: string;
  declare private [kWasClean]: boolean;
  constructor(type: string, options: CloseEventInit = {}) {
    super(type);
    this[kCode] = options.code === undefined ? 0 : options.code;
    this[kReason] = options.reason === undefined ? '' : options.reason;
    this[kWasClean] = options.wasClean === undefined ? false : options.wasClean;
  }
  get code(): number {
    return this[kCode];
  }
  get reason(): string {
    return this[kReason];
  }
  get wasClean(): boolean {
    return this[kWasClean];
  }
}

export interface ErrorEventInit {
  error?: unknown;
  message?: string;
}

/** `new ErrorEvent(type, { error, message })`; defaults null and '', as in ws. */
export class ErrorEvent extends Event {
  declare private [kError]: unknown;
  declare private [kMessage]: string;
  constructor(type: string, options: ErrorEventInit = {}) {
    super(type);
    this[kError] = options.error === undefined ? null : options.error;
    this[kMessage] = options.message === undefined ? '' : options.message;
  }
  get error(): unknown {
    return this[kError];
  }
  get message(): string {
    return this[kMessage];
  }
}

export interface MessageEventInit {
  data?: unknown;
}

/** `new MessageEvent(type, { data })`; default null, as in ws. */
export class MessageEvent extends Event {
  declare private [kData]: unknown;
  constructor(type: string, options: MessageEventInit = {}) {
    super(type);
    this[kData] = options.data === undefined ? null : options.data;
  }
  get data(): unknown {
    return this[kData];
  }
}

// Enumerable accessors, as ws defines them.
for (const [prototype, names] of [
  [Event.prototype, ['target', 'type']],
  [CloseEvent.prototype, ['code', 'reason', 'wasClean']],
  [ErrorEvent.prototype, ['error', 'message']],
  [MessageEvent.prototype, ['data']],
] as const) {
  for (const name of names) Object.defineProperty(prototype, name, { enumerable: true });
}

export type EventListenerLike<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface AddEventListenerOptions {
  once?: boolean;
}
