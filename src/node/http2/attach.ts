import type {
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { type Http2Headers, isExtendedConnect } from '../../protocol/extended-connect.js';

/** A node:http2 server, cleartext (h2c) or secure. */
export type AnyHttp2Server = Http2Server | Http2SecureServer;

/** Whether `server` is a node:http2 server (http.Server and https.Server have no updateSettings). */
export function isHttp2Server(server: unknown): server is AnyHttp2Server {
  return typeof (server as { updateSettings?: unknown } | null)?.updateSettings === 'function';
}

/** Called with each extended CONNECT stream for a WebSocket. */
export type Http2StreamListener = (
  stream: ServerHttp2Stream,
  headers: Http2Headers,
  rawHeaders: string[],
) => void;

/**
 * Makes an HTTP/2 server accept WebSockets (RFC 8441): advertises SETTINGS_ENABLE_CONNECT_PROTOCOL to
 * the sessions it opens from now on, and hands every extended CONNECT stream with
 * `:protocol websocket` to `onStream`. Every other stream is left to the application. With Node's
 * compatibility API (a 'request' listener), Node also tells CONNECT requests as 'connect' events and
 * answers 405 when nobody listens: the listener added here ignores WebSocket ones and keeps that 405
 * for the rest. Returns the function that detaches it.
 */
export function attachHttp2(server: AnyHttp2Server, onStream: Http2StreamListener): () => void {
  server.updateSettings({ enableConnectProtocol: true });
  const stream = (
    s: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    _flags: number,
    rawHeaders: string[],
  ) => {
    if (isExtendedConnect(headers as Http2Headers)) onStream(s, headers as Http2Headers, rawHeaders);
  };
  const connect = (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (isExtendedConnect(req.headers as Http2Headers)) return;
    if (server.listenerCount('connect') === 1) {
      res.statusCode = 405;
      res.end();
    }
  };
  server.on('stream', stream);
  server.on('connect', connect as never);
  return () => {
    server.removeListener('stream', stream);
    server.removeListener('connect', connect as never);
  };
}
