/**
 * Browser-shaped events for addEventListener / onmessage and friends (the WHATWG WebSocket API):
 * MessageEvent.data, CloseEvent.code/reason/wasClean, ErrorEvent.error/message.
 */
export class Event {
  readonly type: string;
  target: unknown = null;
  constructor(type: string) {
    this.type = type;
  }
}

export class MessageEvent extends Event {
  readonly data: unknown;
  constructor(data: unknown) {
    super('message');
    this.data = data;
  }
}

export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(code: number, reason: string, wasClean: boolean) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
  constructor(error: unknown) {
    super('error');
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

export type EventListenerLike<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface AddEventListenerOptions {
  once?: boolean;
}
