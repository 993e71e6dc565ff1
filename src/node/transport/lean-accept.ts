import { channel } from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import { handleCallbacks, LeanSocket } from './lean-socket.js';
import { kOwner } from './lean-socket-state.js';
import { errnoError, isStreamHandle, loadLibuvStream, ownerSymbolOf } from './libuv-stream.js';

/** The part of net.Server's internals that counts its connections (getConnections(), close()). */
export interface CountingServer {
  _connections: number;
  _emitCloseIfDrained?: () => void;
}

/**
 * Takes over the accepting of connections from a listening net.Server (which keeps listen(),
 * address(), close() and its 'error' events): each accepted TCP (or unix socket) handle becomes a LeanSocket, given to
 * `onSocket`, instead of a net.Socket. What net.Server does for each connection is kept: it is
 * counted (getConnections(), and close() waits for it), `maxConnections` refuses (closes) one too
 * many, the `net.server.socket` diagnostics channel gets `{ socket }` (APM tools subscribe to it),
 * and 'connection' is emitted with the LeanSocket when the application listens to it. Returns false,
 * changing nothing, when Node's bindings or the server's listening handle are not what LeanSocket
 * expects.
 */
export function acceptLeanSockets(server: Server, onSocket: (socket: LeanSocket) => void): boolean {
  const listening = (server as unknown as { _handle?: { onconnection?: unknown } | null })._handle;
  if (listening == null || typeof listening.onconnection !== 'function') return false;
  const lib = loadLibuvStream(handleCallbacks(ownerSymbolOf(listening) ?? kOwner));
  if (lib === null) return false;
  const socketChannel = channel('net.server.socket');
  listening.onconnection = (status: number, handle: unknown) => {
    if (status < 0) {
      server.emit('error', errnoError(status, 'accept'));
      return;
    }
    // A TCP handle, or a pipe handle for a server listening on a unix socket (socketPath).
    if (!isStreamHandle(handle)) {
      (handle as { close?: () => void } | null)?.close?.();
      return;
    }
    const counted = server as unknown as CountingServer;
    if (server.maxConnections > 0 && counted._connections >= server.maxConnections) {
      handle.close();
      return;
    }
    const socket = new LeanSocket(handle, lib);
    socket._server = counted;
    counted._connections++;
    if (socketChannel.hasSubscribers) socketChannel.publish({ socket });
    onSocket(socket);
    if (server.listenerCount('connection') > 0) server.emit('connection', socket);
  };
  return true;
}
