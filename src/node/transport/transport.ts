import type { Duplex } from 'node:stream';
import { LeanSocket, type LeanSocketSink } from './lean-socket.js';
import { useCompactListenerTable } from './listener-table.js';
import { kWebSocket } from './socket-slots.js';

/**
 * What carries a connection's bytes: a LeanSocket (the connections of a `port` server), a net.Socket
 * or tls.TLSSocket (an http.Server's upgrades, the client), or any Duplex (an HTTP/2 stream). The
 * connection writes with write/cork/uncork/end/destroy, reads through a TransportSink, and reads
 * `writableLength` for its output bound; nothing else.
 */
export interface Transport extends Duplex {
  setNoDelay?: (noDelay?: boolean) => unknown;
  setTimeout?: (ms: number) => unknown;
}

/**
 * wskit's own reader of a transport (the request-head reader, then the connection). The handlers are
 * called with the transport as `this`, so that one frozen sink serves every connection.
 */
export type TransportSink = LeanSocketSink;

/**
 * Reads a transport through `sink`: a LeanSocket calls it directly (no listeners added), any other
 * Duplex gets the sink's four handlers as listeners.
 */
export function readThrough(transport: Duplex, sink: TransportSink): void {
  if (transport instanceof LeanSocket) {
    transport._sink = sink;
    return;
  }
  // Listeners of an earlier reader came and went: a socket left with none gets a compact table again.
  useCompactListenerTable(transport);
  const s = sink as unknown as Record<'data' | 'end' | 'close' | 'error', (...args: unknown[]) => void>;
  transport.on('data', s.data);
  transport.on('end', s.end);
  transport.on('close', s.close);
  transport.on('error', s.error);
}

/** Stops reading a transport through `sink` (the data after it stays in the transport, not flowing). */
export function stopReadingThrough(transport: Duplex, sink: TransportSink): void {
  if (transport instanceof LeanSocket) {
    transport._sink = null;
    transport.pause();
    return;
  }
  const s = sink as unknown as Record<'data' | 'end' | 'close' | 'error', (...args: unknown[]) => void>;
  transport.removeListener('data', s.data);
  transport.removeListener('end', s.end);
  transport.removeListener('close', s.close);
  transport.removeListener('error', s.error);
  // Not paused (that costs two epoll_ctl calls on a net.Socket) but set back to "no consumer yet"
  // (typed read-only, but Readable has a setter for it, which node:http uses for the same purpose).
  (transport as { readableFlowing: boolean | null }).readableFlowing = null;
}

/** During a handshake, an error on the transport just closes it (a LeanSocket does that by itself). */
export function closeOnError(transport: Duplex): void {
  if (!(transport instanceof LeanSocket)) transport.on('error', destroyOnError);
}

/** The handshake is over: errors are the connection's to handle. */
export function stopClosingOnError(transport: Duplex): void {
  if (!(transport instanceof LeanSocket)) transport.removeListener('error', destroyOnError);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** What reads a transport once its opening handshake is done (the connection). */
export interface TransportReader {
  receive(chunk: Buffer): void;
  /** The peer ended its side (EOF). */
  transportEnded(): void;
  /** The transport closed. */
  transportClosed(): void;
}

interface ReadTransport extends Duplex {
  [kWebSocket]: TransportReader;
}

/** Hands everything `transport` reads to `reader`, through one sink shared by every connection. */
export function readInto(transport: Duplex, reader: TransportReader): void {
  (transport as ReadTransport)[kWebSocket] = reader;
  readThrough(transport, READER_SINK);
}

/** Whether a transport was already handed to a reader (a socket can be upgraded once). */
export function isRead(transport: Duplex): boolean {
  return (transport as Partial<ReadTransport>)[kWebSocket] !== undefined;
}

const READER_SINK: TransportSink = Object.freeze({
  data(this: ReadTransport, chunk: Buffer) {
    this[kWebSocket].receive(chunk);
  },
  end(this: ReadTransport) {
    this[kWebSocket].transportEnded();
  },
  close(this: ReadTransport) {
    this[kWebSocket].transportClosed();
  },
  error(this: ReadTransport) {
    // A reset or a write to a dead peer: the socket closes and 'close' reports 1006; nothing to throw.
    this.destroy();
  },
} as Record<string, unknown>) as unknown as TransportSink;
