// Reads one HTTP/1.1 message head (request or response) off a socket, for the hand-made handshakes.
import type { Socket } from 'node:net';

export interface HttpHead {
  startLine: string;
  /** Lower-cased names; repeated headers joined with ", " (RFC 9110 §5.3). */
  headers: Map<string, string>;
  /** Bytes received after the head: the first WebSocket frames, if the peer sent them along. */
  rest: Buffer;
}

const MAX_HEAD = 16 * 1024;

/** Resolves with the head; the socket is left paused so the caller can attach its own reader first. */
export function readHttpHead(socket: Socket, timeoutMs: number): Promise<HttpHead> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, head?: HttpHead) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(head!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) done(new Error('HTTP head too large'));
        return;
      }
      socket.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) return done(new Error(`malformed header line: ${JSON.stringify(line)}`));
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        const prev = headers.get(name);
        headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
      }
      done(undefined, { startLine: lines[0], headers, rest: buf.subarray(end + 4) });
    };
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('connection closed during the HTTP handshake'));
    const timer = setTimeout(() => done(new Error(`no HTTP head within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
