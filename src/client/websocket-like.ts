/**
 * The little of a WebSocket the client uses: the browser's (WHATWG) API, which Node ≥ 22 has as a
 * global and wskit's own WebSocket implements. Declared here so that the client depends on no DOM or
 * Node types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' for none). */
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: (event: unknown) => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string; wasClean: boolean }) => void,
  ): void;
}

/** `new WebSocket(url, protocols)`: globalThis.WebSocket, or wskit's, or any with the same API. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** The global WebSocket of browsers, Deno, Bun and Node ≥ 22, if there is one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

/** A browser's window (or worker scope), whose `online` and `offline` events tell of the network. */
export function networkEvents(): NetworkEvents | undefined {
  const scope = globalThis as Partial<NetworkEvents> & { navigator?: { onLine?: unknown } };
  if (typeof scope.addEventListener !== 'function' || typeof scope.removeEventListener !== 'function') {
    return undefined;
  }
  return scope as NetworkEvents;
}

/** Whether the browser says it has no network (false where nobody can tell, as in Node). */
export function browserOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: unknown } }).navigator?.onLine === false;
}
