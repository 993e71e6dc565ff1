import type { Server } from 'node:net';
import { LeanSocket } from './lean-socket.js';
import { errnoError, isStreamHandle, loadLibuvStream } from './libuv-stream.js';

/**
 * Takes over the accepting of connections from a listening net.Server (which keeps listen(),
 * address(), close() and its 'error' events): each accepted TCP (or unix socket) handle becomes a LeanSocket, given to
 * `onSocket`, instead of a net.Socket emitted as 'connection'. Returns false, changing nothing, when
 * Node's bindings or the server's listening handle are not what LeanSocket expects.
 */
export function acceptLeanSockets(server: Server, onSocket: (socket: LeanSocket) => void): boolean {
  const listening = (server as unknown as { _handle?: { onconnection?: unknown } | null })._handle;
  if (listening == null || typeof listening.onconnection !== 'function') return false;
  const lib = loadLibuvStream();
  if (lib === null) return false;
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
    onSocket(new LeanSocket(handle, lib));
  };
  return true;
}
