import { Buffer } from 'node:buffer';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { argumentError } from '../../protocol/errors.js';
import {
  type FlashPolicyOptions,
  flashPolicyDocument,
  matchPolicyRequest,
  POLICY_FILE_REQUEST,
} from '../../protocol/flash-policy.js';

/** Writes the policy document (NUL included) and closes the socket, as Flash expects. */
export function answerFlashPolicy(socket: Duplex, document: Buffer): void {
  socket.on('error', () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(document);
}

/** What a socket of wskit's own listener carries while its first bytes may be a policy request. */
export interface PolicySniffState {
  /** The bytes read so far while they are a prefix of the request; null once they are not. */
  sniff: Buffer | null;
}

/**
 * The first bytes of a connection to a `port` server, looked at before the request-head parser:
 * returns the bytes to parse (not a policy request), or null when they were taken (a prefix of the
 * request: wait for more; the whole request: answered with `document()`, the socket closing).
 */
export function sniffPolicyRequest(
  socket: Duplex,
  state: PolicySniffState,
  chunk: Buffer,
  document: () => Buffer,
): Buffer | null {
  const seen = state.sniff!;
  const bytes = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
  const match = matchPolicyRequest(bytes);
  if (match === 'other') {
    state.sniff = null;
    return bytes;
  }
  if (match === 'partial') {
    state.sniff = bytes;
    return null;
  }
  state.sniff = null;
  answerFlashPolicy(socket, document());
  return null;
}

const RESPONSES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * Answers the policy request on an attached http(s).Server's port. Node's HTTP parser fails on its
 * first byte ('<' starts no method) and reports a 'clientError' with the bytes read (`rawPacket`):
 * a policy request, as Flash sends it in one packet, is answered; any other error gets what Node
 * answers by itself when no one listens to 'clientError' (unless the application listens too: then
 * it is the application's). Returns the function that detaches the listener.
 */
export function answerFlashPolicyOn(server: HttpServer | HttpsServer, document: () => Buffer): () => void {
  const onClientError = (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => {
    const raw = err.rawPacket;
    if (
      Buffer.isBuffer(raw) &&
      raw.length >= POLICY_FILE_REQUEST.length - 1 &&
      matchPolicyRequest(raw) !== 'other'
    ) {
      answerFlashPolicy(socket, document());
      return;
    }
    if (server.listenerCount('clientError') > 1) return;
    const written = (socket as Partial<Socket>).bytesWritten ?? 0;
    if (socket.writable && written === 0) {
      const status = RESPONSES[err.code ?? ''] ?? '400 Bad Request';
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy(err);
  };
  server.on('clientError', onClientError);
  return () => server.removeListener('clientError', onClientError);
}

export interface FlashPolicyServerOptions extends FlashPolicyOptions {
  /**
   * Milliseconds a connection may take to send its request before it is dropped. Default 5,000.
   */
  timeout?: number;
}

/**
 * A server that only answers Flash's policy-file request, for port 843 (where Flash asks first) or
 * any other: `createFlashPolicyServer({ ports: [8080] }).listen(843)`. `ports` is required (the
 * ports of your WebSocket servers). Any other first bytes, or none within `timeout`, close the
 * connection.
 */
export function createFlashPolicyServer(options: FlashPolicyServerOptions): Server {
  if (typeof options !== 'object' || options === null || options.ports === undefined) {
    throw argumentError(
      'createFlashPolicyServer({ ports }): give the ports your WebSocket servers listen on (a policy server cannot guess them)',
    );
  }
  const timeout = options.timeout ?? 5000;
  if (typeof timeout !== 'number' || !(timeout > 0)) {
    throw argumentError(
      `createFlashPolicyServer: timeout must be a number of ms > 0; got ${String(timeout)}`,
    );
  }
  const document = flashPolicyDocument(options);
  return createServer((socket) => {
    let seen: Buffer = Buffer.alloc(0);
    socket.setTimeout(timeout, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const match = matchPolicyRequest(seen);
      if (match === 'partial') return;
      socket.removeAllListeners('data');
      socket.setTimeout(0);
      if (match === 'request') answerFlashPolicy(socket, document);
      else socket.destroy();
    });
  });
}
