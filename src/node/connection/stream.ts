import process from 'node:process';
import { Duplex, type DuplexOptions } from 'node:stream';
import type { WebSocket } from './websocket.js';

/**
 * A Duplex stream over a WebSocket (ws's createWebSocketStream): each message read is a chunk, each
 * chunk written is a message. Reading applies backpressure by pausing the socket; ending the writable
 * side starts the closing handshake; destroying the stream terminates the connection. An error
 * destroys the stream, and is thrown if nothing listens for it (as for any stream, and as in ws).
 */
export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._write(chunk, _encoding, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._final(callback));
        return;
      }
      const socket = ws._socket;
      if (socket === null) return;
      if (socket.writableFinished) {
        callback();
        if (duplex.readableEnded) duplex.destroy();
      } else {
        socket.once('finish', () => callback());
        ws.close();
      }
    },
    destroy(err, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(err);
        process.nextTick(() => duplex.emit('close'));
        return;
      }
      let called = false;
      ws.once('error', (e: Error) => {
        called = true;
        callback(e);
      });
      ws.once('close', () => {
        if (!called) callback(err);
        process.nextTick(() => duplex.emit('close'));
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });
  const objectMode = options.objectMode === true || options.readableObjectMode === true;
  ws.on('message', (msg: Buffer, isBinary: boolean) => {
    const data = !isBinary && objectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (err: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  duplex.on('end', () => {
    if (duplex.writableFinished) duplex.destroy();
  });
  duplex.on('error', onFirstError);
  return duplex;
}

/**
 * As ws: the first 'error' (a write that failed, the connection's error) destroys the stream, and is
 * thrown, as any stream's is, when the application does not listen for it.
 */
function onFirstError(this: Duplex, err: Error): void {
  this.removeListener('error', onFirstError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}
