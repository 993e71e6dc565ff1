/**
 * The per-connection state wskit keeps on a socket (net.Socket or LeanSocket), under symbols so that
 * it never clashes with the socket's own fields. LeanSocket declares them in its constructor, so
 * V8 keeps them inside the object instead of in a separate property array.
 */

/** The request-head parser of a socket whose opening handshake is being read (upgrade-listener). */
export const kHead = Symbol('wskit.requestHead');
/** The WebSocket a socket belongs to, once upgraded (socket-io). */
export const kWebSocket = Symbol('wskit.websocket');
