import { Buffer } from 'node:buffer';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import process from 'node:process';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { type CodedError, createError } from '../../protocol/errors.js';

export interface TunnelOptions {
  /** The proxy: http:// (CONNECT over TCP) or https:// (CONNECT over TLS). */
  proxy: URL;
  /** 'user:password' for Proxy-Authorization when the proxy URL carries no userinfo. */
  auth?: string | undefined;
  /** Where the tunnel goes: the WebSocket server's host name (or IP address) and port. */
  host: string;
  port: number;
  /** wss://: TLS with the server through the tunnel, with these options (ca, servername...). */
  tls: TlsConnectionOptions | null;
  /** TLS options for an https:// proxy itself (ca, rejectUnauthorized...). */
  proxyTls?: TlsConnectionOptions | undefined;
  /** Milliseconds the proxy may take to open the tunnel. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export type TunnelCallback = (error: Error | null, socket?: Duplex) => void;

/**
 * An HTTP CONNECT tunnel through a proxy to a WebSocket server, for http.request's
 * createConnection: calls back once, with the socket to the server (TLS on top for wss://) or with
 * why there is none: the proxy unreachable, its refusal (WS_ERR_PROXY_REJECTED with its `status`),
 * the deadline (WS_ERR_HANDSHAKE_TIMEOUT) or the AbortSignal.
 */
export class ProxyTunnel {
  private readonly options: TunnelOptions;
  private callback: TunnelCallback | null;
  private req: ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly onAbort = (): void => this.finish(abortedError(this.options.signal));

  /** The proxy's host (and port), for messages. */
  get proxyHost(): string {
    return this.options.proxy.host;
  }

  constructor(options: TunnelOptions, callback: TunnelCallback) {
    this.options = options;
    this.callback = callback;
    const { proxy, host, port, signal, timeout } = options;
    if (signal?.aborted) {
      process.nextTick(this.onAbort);
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (timeout !== undefined && timeout > 0) {
      this.timer = setTimeout(() => {
        this.finish(
          createError('WS_ERR_HANDSHAKE_TIMEOUT', 'Opening handshake has timed out', {
            detail: `after ${timeout} ms (the proxy ${proxy.host} opened no tunnel)`,
          }),
        );
      }, timeout);
    }
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { Host: authority };
    const credentials =
      proxy.username || proxy.password
        ? `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
        : options.auth;
    if (credentials) {
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const secureProxy = proxy.protocol === 'https:';
    const req = (secureProxy ? httpsRequest : httpRequest)({
      ...(secureProxy ? options.proxyTls : undefined),
      host: unbracket(proxy.hostname),
      port: proxy.port || (secureProxy ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
    });
    this.req = req;
    req.on('error', (err) => this.finish(err));
    req.on('connect', (res: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.connected(res, socket, head),
    );
    req.end();
  }

  /** Stops opening the tunnel (the handshake was aborted): the callback is not called. */
  destroy(): void {
    this.callback = null;
    this.cleanup();
  }

  private connected(res: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.req = null;
    if (this.callback === null) {
      socket.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      socket.destroy();
      this.finish(refusal(status, res.statusMessage ?? '', this.options));
      return;
    }
    if (head.length > 0) socket.unshift(head);
    const tls = this.options.tls;
    if (tls === null) {
      this.finish(null, socket);
      return;
    }
    const host = this.options.host;
    const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
    // http.request writes the upgrade request as soon as it has the socket: TLS buffers it until
    // the TLS handshake is done; a certificate refused is the request's 'error'.
    this.finish(null, tlsConnect({ ...tls, host, socket, servername }));
  }

  private finish(error: Error | null, socket?: Duplex): void {
    const callback = this.callback;
    this.callback = null;
    this.cleanup();
    if (callback === null) {
      socket?.destroy();
      return;
    }
    callback(error, socket);
  }

  private cleanup(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const req = this.req;
    this.req = null;
    if (req !== null) {
      req.on('error', () => {});
      req.destroy();
    }
  }
}

/** The error of an opening handshake aborted by its AbortSignal (the signal's reason as cause). */
export function abortedError(signal: AbortSignal | undefined): CodedError {
  return createError(
    'WS_ERR_HANDSHAKE_ABORTED',
    'The opening handshake was aborted by its AbortSignal (the signal option)',
    { cause: signal?.reason },
  );
}

function refusal(status: number, statusText: string, options: TunnelOptions): CodedError {
  const proxy = options.proxy.host;
  const target = `${options.host}:${options.port}`;
  const sentCredentials = Boolean(options.proxy.username || options.proxy.password || options.auth);
  const message =
    status === 407
      ? sentCredentials
        ? `The proxy ${proxy} refused the credentials given (407 ${statusText}): check the user and password of the proxy URL or the proxyAuth option`
        : `The proxy ${proxy} requires authentication (407 ${statusText}): give the credentials in the proxy URL (http://user:password@host:port) or the proxyAuth option`
      : `The proxy ${proxy} refused to open a tunnel to ${target}: ${status} ${statusText}`;
  return createError('WS_ERR_PROXY_REJECTED', message, { status });
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
