import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Http2Headers } from '../../protocol/extended-connect.js';

/**
 * The request of a WebSocket opened over HTTP/2 (an extended CONNECT, RFC 8441): what handlers read of
 * Node's IncomingMessage — method, url, headers, rawHeaders, httpVersion, socket — plus the stream and
 * the pseudo-headers. `headers` holds the request's headers as Node gave them (pseudo-headers
 * included) with `host` added from `:authority`, so code written for HTTP/1.1 upgrades (verifyClient
 * reading `req.headers.host` or `req.headers.origin`) works unchanged.
 */
export class Http2UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  /** The HTTP/2 stream that carries the WebSocket. */
  readonly stream: ServerHttp2Stream;
  /** `:authority`, `:scheme` and `:protocol` ('websocket'). */
  readonly authority: string;
  readonly scheme: string;
  readonly protocol: string;
  readonly complete = true;
  readonly aborted = false;

  constructor(stream: ServerHttp2Stream, headers: Http2Headers, rawHeaders: string[] = []) {
    this.stream = stream;
    this.method = String(headers[':method']);
    this.url = String(headers[':path'] ?? '/');
    this.authority = String(headers[':authority'] ?? '');
    this.scheme = String(headers[':scheme'] ?? '');
    this.protocol = String(headers[':protocol'] ?? '');
    const copy: Record<string, string | string[] | undefined> = {};
    for (const [name, value] of Object.entries(headers)) {
      copy[name] = typeof value === 'number' ? String(value) : value;
    }
    copy.host ??= this.authority;
    this.headers = copy;
    this.rawHeaders = rawHeaders;
  }

  /**
   * The session's socket (the TLS or TCP connection shared by every stream of the session): Node's
   * proxy of it, which gives remoteAddress, remotePort, encrypted... but cannot be read or written.
   */
  get socket(): Socket {
    return this.stream.session?.socket as Socket;
  }

  /** The socket (IncomingMessage's deprecated alias). */
  get connection(): Socket {
    return this.socket;
  }
}
