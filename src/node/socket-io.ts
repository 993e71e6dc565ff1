import type { Duplex } from 'node:stream';
import { ReadyState } from '../protocol/constants.js';
import { emitClose } from './connection-end.js';
import { LeanSocket, type LeanSocketSink } from './lean-socket.js';
import { useCompactListenerTable } from './listener-table.js';
import { kWebSocket } from './socket-slots.js';
import type { WebSocket } from './websocket.js';

interface OwnedSocket extends Duplex {
  [kWebSocket]: WebSocket;
  setNoDelay?: (noDelay?: boolean) => unknown;
  setTimeout?: (ms: number) => unknown;
}

/** Wires an upgraded socket to its WebSocket. Bytes that came with the handshake (`head`) are read first. */
export function attachSocket(ws: WebSocket, duplex: Duplex, head: Buffer): void {
  const socket = duplex as OwnedSocket;
  socket[kWebSocket] = ws;
  ws._socket = socket;
  socket.setTimeout?.(0);
  socket.setNoDelay?.(true);
  if (head.length > 0) socket.unshift(head);
  if ((socket as unknown) instanceof LeanSocket) {
    (socket as unknown as LeanSocket)._sink = SOCKET_SINK;
  } else {
    // The handshake's listeners came and went; a socket left with none gets a compact table again.
    useCompactListenerTable(socket);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
  }
  // A socket read by wskit's own listener was paused after the request head; one from Node's http
  // server is not flowing yet. Either way, reading starts now.
  socket.resume();
}

/** Whether a socket was already handed to a WebSocket. */
export function isAttached(socket: Duplex): boolean {
  return (socket as OwnedSocket)[kWebSocket] !== undefined;
}

function onData(this: OwnedSocket, chunk: Buffer): void {
  const ws = this[kWebSocket];
  ws._hbSeen = true;
  ws._inReceive = true;
  try {
    ws._protocol!.receive(chunk);
  } finally {
    ws._inReceive = false;
  }
  flushOutput(ws);
}

function onEnd(this: OwnedSocket): void {
  const ws = this[kWebSocket];
  ws._protocol!.receiveEof();
  if (ws._readyState === ReadyState.OPEN) ws._readyState = ReadyState.CLOSING;
  // Ending a socket that is already ended builds an error (with its stack trace) for nothing.
  if (!this.writableEnded) this.end();
}

function onClose(this: OwnedSocket): void {
  const ws = this[kWebSocket];
  ws._protocol!.receiveEof();
  ws._flushScheduled = true; // nothing more can be written
  const callbacks = ws._callbacks;
  ws._callbacks = null;
  if (callbacks !== null) {
    const err = new Error('The socket was closed before the data could be written');
    for (const cb of callbacks) cb(err);
  }
  emitClose(ws);
}

function onError(this: OwnedSocket): void {
  // A reset or a write to a dead peer: the socket closes and 'close' reports 1006; nothing to throw.
  this.destroy();
}

/** The same four handlers, called directly by a LeanSocket. */
const SOCKET_SINK: LeanSocketSink = Object.freeze({
  data: onData as unknown as LeanSocketSink['data'],
  end: onEnd as unknown as LeanSocketSink['end'],
  close: onClose as unknown as LeanSocketSink['close'],
  error: onError as unknown as LeanSocketSink['error'],
});

/** Writes everything the protocol has queued, as one write or one corked batch. */
export function flushOutput(ws: WebSocket): void {
  ws._flushScheduled = false;
  const protocol = ws._protocol;
  const socket = ws._socket;
  if (protocol === null || socket === null) return;
  const out = protocol.takeOutput();
  if (out === null) return;
  const callbacks = ws._callbacks;
  ws._callbacks = null;
  if (socket.destroyed || !socket.writable) {
    if (callbacks !== null) {
      const err = new Error('The socket is not writable: the connection is closed');
      for (const cb of callbacks) process.nextTick(cb, err);
    }
    return;
  }
  // A closure only when someone waits: send callbacks, or a 'drain' owed after send() returned false.
  const done =
    callbacks === null && !ws._needDrain
      ? undefined
      : (err?: Error | null) => {
          if (callbacks !== null) for (const cb of callbacks) cb(err ?? null);
          if (!err && ws._needDrain && ws.bufferedAmount === 0) {
            ws._needDrain = false;
            ws.emit('drain');
          }
        };
  if (out.length === 1) {
    socket.write(out[0], done);
    return;
  }
  socket.cork();
  const last = out.length - 1;
  for (let i = 0; i < last; i++) socket.write(out[i]);
  socket.write(out[last], done);
  socket.uncork();
}

/** Flushes on the next tick: the sends of one tick go out in one write. */
export function scheduleFlush(ws: WebSocket): void {
  if (ws._flushScheduled) return;
  ws._flushScheduled = true;
  process.nextTick(flushOutput, ws);
}
