import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type SecureServerOptions,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { AnyHttp2Server } from '../node/http2/attach.js';

/** The TLS options of a server wskit creates (those of tls.createServer: cert, key, ca, pfx...). */
export type ServerTlsOptions = TlsOptions;

/** Settings of the HTTP/2 sessions of a server wskit creates: at most this many streams each. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/**
 * The server wskit creates for `port` with `tls` and/or `http2`: an https.Server (`tls` alone), an
 * HTTP/2 server that also speaks HTTP/1.1 on the same port (`tls` and `http2`: ALPN h2 and
 * http/1.1), or a cleartext HTTP/2 server (`http2` alone: h2c with prior knowledge, for tests and
 * proxies). It serves WebSockets only: any other request is answered 426 (HTTP/1.1) or 400 (HTTP/2).
 */
export function createTlsServer(
  tls: ServerTlsOptions | undefined,
  http2: boolean,
  handshakeTimeout: number,
): NetServer {
  // The TLS handshake is part of the opening handshake: bounded by the same limit (Node's default
  // is 120 s) unless the TLS options say otherwise.
  if (tls !== undefined && handshakeTimeout > 0) tls = { handshakeTimeout, ...tls };
  if (!http2) {
    const server: HttpsServer = createHttpsServer(tls ?? {});
    server.on('request', notWebSocket);
    return server;
  }
  const settings = { enableConnectProtocol: true, maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS };
  const server: AnyHttp2Server =
    tls === undefined
      ? createH2cServer({ settings })
      : createSecureServer({ ...(tls as SecureServerOptions), allowHTTP1: true, settings });
  server.on('request', notWebSocket);
  // Sessions outlive their streams: closing the server closes them too (see closeSessions).
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A session that opens no stream within handshakeTimeout (a silent or half-open client) is
    // dropped, as a TCP connection that sends no upgrade request is; its first stream ends the clock.
    if (handshakeTimeout > 0) {
      session.setTimeout(handshakeTimeout, () => session.destroy());
      session.once('stream', () => session.setTimeout(0));
    }
  });
  (server as unknown as { [kSessions]: Set<Http2Session> })[kSessions] = sessions;
  return server as unknown as NetServer;
}

const kSessions = Symbol('wskit.http2Sessions');

/**
 * Sends GOAWAY on every session of an HTTP/2 server created by createTlsServer: each closes once its
 * streams (the WebSockets, closing with 1001) are done, and then server.close() can finish.
 */
export function closeSessions(server: NetServer): void {
  const sessions = (server as unknown as { [kSessions]?: Set<Http2Session> })[kSessions];
  if (sessions === undefined) return;
  for (const session of sessions) if (!session.closed) session.close();
}

function notWebSocket(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): void {
  if (req.httpVersionMajor === 1) {
    // ws's body for a request that is not an upgrade: the status text alone.
    const body = 'Upgrade Required';
    (res as ServerResponse).writeHead(426, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Content-Type': 'text/plain',
      'Content-Length': body.length,
    });
    res.end(body);
    return;
  }
  (res as Http2ServerResponse).writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('This server speaks WebSocket only\n');
}
