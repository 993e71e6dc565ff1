import { Buffer } from 'node:buffer';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { checkUpgradeResponse } from '../../protocol/client-handshake.js';
import { ReadyState } from '../../protocol/constants.js';
import { argumentError, createError } from '../../protocol/errors.js';
import { generateKey } from '../../protocol/handshake-keys.js';
import { isToken } from '../../protocol/header-tokens.js';
import { acceptAsClient, clientOffer, PERMESSAGE_DEFLATE } from '../../protocol/permessage-deflate.js';
import type { PerMessageDeflateOptions } from '../deflate/codec.js';
import { DEFAULT_INFLATE_BUDGET, InflateBudget } from '../deflate/inflate-budget.js';
import { Limiter } from '../deflate/limiter.js';
import { resolveDeflate } from '../deflate/options.js';
import { Http2ClientHandshake, type Http2ClientOptions } from '../http2/client-stream.js';
import { nonNegative } from '../options-check.js';
import { type Negotiated, negotiated } from './negotiated.js';
import { type ProxyOption, proxyFor } from './proxy-route.js';
import { abortedError, ProxyTunnel, type TunnelCallback } from './proxy-tunnel.js';

/** ws's client options (those wskit supports), and the TLS options of https.request. */
export interface ClientOptions
  extends Pick<
    TlsConnectionOptions,
    | 'ca'
    | 'cert'
    | 'key'
    | 'pfx'
    | 'passphrase'
    | 'rejectUnauthorized'
    | 'servername'
    | 'checkServerIdentity'
    | 'ciphers'
    | 'minVersion'
    | 'maxVersion'
  > {
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Basic authentication ('user:password') when the URL has no userinfo, as in http.request. */
  auth?: string;
  /** The Origin header (Sec-WebSocket-Origin for protocolVersion 8). */
  origin?: string;
  /** Milliseconds allowed for the opening handshake; the connection fails after that. Default: none. */
  handshakeTimeout?: number;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Most redirects followed. Default 10. */
  maxRedirects?: number;
  /** An http(s).Agent for the request. */
  agent?: Agent;
  /**
   * permessage-deflate (RFC 7692): true (the default, as in ws), false, or options. The client asks the
   * server for server_no_context_takeover by default, so it keeps no zlib state either.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Bytes of received messages that this connection holds while they inflate on the thread pool;
   * past it, inflation waits and reading pauses. Default 64 MiB (0 = no limit).
   */
  inflateBudget?: number;
  /** Sec-WebSocket-Version to send: 13 (default) or 8. */
  protocolVersion?: 8 | 13;
  /** Creates the TCP/TLS connection instead of the agent (as in http.request). */
  createConnection?: (...args: never[]) => Duplex;
  /** Called with the request instead of req.end(): to write a body or delay the request. */
  // biome-ignore lint/suspicious/noExplicitAny: the WebSocket (typed there; this layer is below it)
  finishRequest?: (request: ClientRequest, websocket: any) => void;
  /** Local interface to bind for the connection. */
  localAddress?: string;
  /** IP family (4 or 6). */
  family?: number;
  /** Resolves the host name (as in http.request; default dns.lookup). */
  lookup?: LookupFunction;
  /**
   * Aborts the opening handshake (proxy step included, and over HTTP/2): 'error'
   * (WS_ERR_HANDSHAKE_ABORTED), then 'close' with 1006. Ignored once the connection is open: use
   * close() then.
   */
  signal?: AbortSignal;
  /**
   * An HTTP(S) proxy to tunnel through with CONNECT: its URL (userinfo = Proxy-Authorization
   * Basic credentials), 'env' for the one named by https_proxy / http_proxy unless no_proxy exempts
   * the host (loopback hosts never go through it), or false. Default: no proxy, as in ws. With
   * `http2: true` the HTTP/2 session goes through it; with `http2Session` it is refused
   * (WS_ERR_INVALID_ARGUMENT). See docs/client-networking.md.
   */
  proxy?: ProxyOption;
  /** 'user:password' for the proxy when its URL has no userinfo. */
  proxyAuth?: string;
  /** TLS options for an https:// proxy itself (ca, rejectUnauthorized...). */
  proxyTls?: TlsConnectionOptions;
  // ---- WebSockets over HTTP/2 (RFC 8441): see Http2ClientOptions, docs/http2.md ----
  /** Open the WebSocket as an HTTP/2 stream, on a session of its own (ALPN h2, or h2c for ws://). Default false. */
  http2?: Http2ClientOptions['http2'];
  /** An open http2 session to open the WebSocket on (implies http2); it stays the caller's. */
  http2Session?: Http2ClientOptions['http2Session'];
}

/** The client connection a ClientHandshake works for (the WebSocket). */
export interface HandshakeClient {
  readonly readyState: ReadyState;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
  /** The handshake failed (or was aborted): 'error', then 'close' with 1006. */
  handshakeFailed(error: Error): void;
  /** The server accepted: the connection opens on `socket`. */
  handshakeDone(socket: Duplex, head: Buffer, negotiated: Negotiated): void;
}

/** The URL forms ws accepts: ws:, wss:, http:, https: and ws+unix:/path/to/socket:/request/path. */
function parseAddress(address: string | URL): URL {
  let url: URL;
  try {
    url = address instanceof URL ? address : new URL(address);
  } catch {
    throw createError('WS_ERR_INVALID_URL', `Invalid URL: ${String(address)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  // ws's texts; the URL itself goes into detail.
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && url.protocol !== 'ws+unix:') {
    throw createError(
      'WS_ERR_INVALID_URL',
      'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
      { detail: `${url.href} has the protocol ${url.protocol}` },
    );
  }
  if (url.protocol === 'ws+unix:' && url.pathname === '') {
    throw createError('WS_ERR_INVALID_URL', "The URL's pathname is empty", {
      detail: `${url.href} names no socket path (ws+unix:/path/to/socket:/request/path)`,
    });
  }
  if (url.hash) {
    throw createError('WS_ERR_INVALID_URL', 'The URL contains a fragment identifier', {
      detail: `${url.href}: a WebSocket URL has no fragment (RFC 6455 §3)`,
    });
  }
  return url;
}

/**
 * A client's opening handshake (RFC 6455 §4.1), redirects included: the HTTP request, its answer, and
 * the checks of the 101. Owns the request in progress; tells its HandshakeClient how it ended.
 */
export class ClientHandshake {
  private readonly client: HandshakeClient;
  private readonly protocols: string[];
  private readonly options: ClientOptions;
  /** The URL first asked for, when following redirects. */
  private original: URL | undefined;
  private req: ClientRequest | null = null;
  /** The CONNECT tunnel being opened through a proxy, before the request has its socket. */
  private tunnel: ProxyTunnel | null = null;
  /** The handshake over HTTP/2 (options http2, http2Session), which replaces the request. */
  private http2: Http2ClientHandshake | null = null;
  private redirects = 0;
  /** A 'redirect' listener runs: what it throws is not a failure of the handshake. */
  private inRedirectListener = false;
  /** The request headers of the first request, lower-cased, credentials included. */
  private baseHeaders: Record<string, string> | null = null;
  /** Where the first request went (`tcp:host:port` or `unix:path`), to tell a redirect elsewhere. */
  private originalTarget = '';
  /** The URL being connected to (ws.url). */
  url = '';
  /** Fails the handshake `handshakeTimeout` ms after start(), redirects included. */
  private deadline: NodeJS.Timeout | null = null;

  constructor(client: HandshakeClient, protocols: string[], options: ClientOptions) {
    this.client = client;
    this.protocols = protocols;
    this.options = options;
  }

  /** Sends the request; throws WS_ERR_INVALID_URL or WS_ERR_INVALID_ARGUMENT for bad arguments. */
  start(address: string | URL): void {
    checkClientOptions(this.options);
    const ms = this.options.handshakeTimeout;
    if (ms !== undefined && ms > 0) {
      // A deadline, not an idle timeout: a server that trickles its answer cannot extend it.
      this.deadline = setTimeout(() => {
        const proxyHost = this.tunnel?.proxyHost ?? this.http2?.tunnelProxyHost;
        const where = proxyHost === undefined ? '' : ` (the proxy ${proxyHost} opened no tunnel)`;
        this.fail(
          createError('WS_ERR_HANDSHAKE_TIMEOUT', 'Opening handshake has timed out', {
            detail: `after ${ms} ms${where}`,
          }),
        );
      }, ms);
    }
    this.connect(address);
  }

  /** Aborts the request in progress (close() or terminate() while connecting). */
  abort(): void {
    this.clearDeadline();
    this.tunnel?.destroy();
    this.tunnel = null;
    this.http2?.abort();
    const req = this.req;
    this.req = null;
    if (req !== null) {
      // Its socket too: once a response was read (a listener of 'unexpected-response' reading the
      // body, then close()), req.destroy() no longer reaches a kept-alive socket, as in ws.
      const socket = req.socket;
      req.destroy();
      req.on('error', () => {});
      if (socket != null && !socket.destroyed) socket.destroy();
    }
  }

  private clearDeadline(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private fail(error: Error): void {
    this.abort();
    this.client.handshakeFailed(error);
  }

  private connect(address: string | URL): void {
    const { client, protocols, options } = this;
    const original = this.original;
    // ws's order: the version, the URL, the subprotocols.
    const version = options.protocolVersion ?? 13;
    if (version !== 8 && version !== 13) {
      throw argumentError(
        `Unsupported protocol version: ${String(version)} (supported versions: 8, 13)`,
        'RangeError',
        'use 13 (RFC 6455), or 8 for a hybi-08 server',
      );
    }
    const url = parseAddress(address);
    this.url = url.href;
    const seen = new Set<string>();
    for (const p of protocols) {
      if (typeof p !== 'string' || !isToken(p) || seen.has(p)) {
        throw argumentError(
          'An invalid or duplicated subprotocol was specified',
          'SyntaxError',
          `${JSON.stringify(p)} ${seen.has(p as string) ? 'is listed twice' : 'is not a token'}: each subprotocol must be a distinct token`,
        );
      }
      seen.add(p);
    }
    const secure = url.protocol === 'wss:';
    const key = generateKey();
    const isUnix = url.protocol === 'ws+unix:';
    let socketPath: string | undefined;
    let path = `${url.pathname}${url.search}`;
    if (isUnix) {
      // ws+unix:/path/to/socket:/request/path?query: the socket path ends at the first colon.
      const colon = path.indexOf(':');
      socketPath = colon === -1 ? path : path.slice(0, colon);
      path = colon === -1 ? '/' : path.slice(colon + 1);
    }
    // Where the request goes: a host and port, or a unix socket (never the same as a host).
    const target = isUnix ? `unix:${socketPath}` : `tcp:${url.host}`;
    let base = this.baseHeaders;
    if (base === null) {
      // The first request: the application's headers (names in lower case, as ws does) and its
      // credentials, from the URL's userinfo or else the `auth` option, as an Authorization header.
      // Redirects keep them (a Location's userinfo does not replace them) unless they leave.
      base = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) base[name.toLowerCase()] = value;
      const auth =
        url.username || url.password
          ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
          : options.auth;
      if (auth && base.authorization === undefined) {
        base.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      }
      this.baseHeaders = base;
      this.originalTarget = target;
    } else if (client.listenerCount('redirect') === 0) {
      // A redirect to another host or socket (or from wss: to ws:) must not carry the credentials
      // meant for the first one, as in ws and curl; a 'redirect' listener decides that itself.
      const sameHost = target === this.originalTarget;
      if (!sameHost || (original?.protocol === 'wss:' && !secure)) {
        base = { ...base };
        delete base.authorization;
        delete base.cookie;
        if (!sameHost) delete base.host;
        this.baseHeaders = base;
      }
    }
    const headers: Record<string, string> = {
      'Sec-WebSocket-Version': String(version),
      'Sec-WebSocket-Key': key,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      ...base,
    };
    if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
    const deflate = resolveDeflate(options.perMessageDeflate, true, 'client');
    if ((options.http2 !== undefined && options.http2 !== false) || options.http2Session !== undefined) {
      // RFC 8441: an extended CONNECT on an HTTP/2 stream instead of this request (docs/http2.md).
      this.http2 = new Http2ClientHandshake(client, url, protocols, options as never, deflate);
      this.http2.start();
      return;
    }
    if (deflate !== null) headers['Sec-WebSocket-Extensions'] = clientOffer(deflate.negotiation);
    if (options.origin) headers[version === 13 ? 'Origin' : 'Sec-WebSocket-Origin'] = options.origin;
    // Every other option goes to http(s).request as it is, as in ws (TLS options, agent, lookup,
    // family, localAddress, signal, createConnection...); what wskit sets wins.
    const requestOptions: Record<string, unknown> = {
      ...options,
      method: 'GET',
      headers,
      path,
      socketPath,
      host: isUnix ? undefined : url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: isUnix ? undefined : url.port || (secure ? 443 : 80),
      auth: undefined,
      handshakeTimeout: undefined,
    };
    for (const k of Object.keys(requestOptions)) {
      if (requestOptions[k] === undefined) delete requestOptions[k];
    }
    const proxy = proxyFor(options.proxy, url);
    if (proxy !== null) {
      // The tunnel is the connection: no agent, no createConnection of the application.
      delete requestOptions.agent;
      requestOptions.createConnection = (_: unknown, oncreate: TunnelCallback) => {
        this.tunnel = new ProxyTunnel(
          {
            proxy,
            auth: options.proxyAuth,
            host: requestOptions.host as string,
            port: Number(requestOptions.port),
            tls: secure ? tlsOptionsOf(options) : null,
            proxyTls: options.proxyTls,
            // The handshake's deadline (start()) covers the tunnel too.
            timeout: undefined,
            signal: options.signal,
          },
          (err, socket) => {
            this.tunnel = null;
            oncreate(err, socket);
          },
        );
        return undefined;
      };
    }
    const req = (secure ? httpsRequest : httpRequest)(requestOptions as never);
    this.req = req;
    // ws's 'redirect': the new request, headers still editable (getHeader / removeHeader).
    if (original !== undefined) {
      this.inRedirectListener = true;
      client.emit('redirect', this.url, req);
      this.inRedirectListener = false;
    }

    req.on('error', (err) => {
      if (this.req !== req) return;
      // Aborted by the signal: one typed error, whichever step (tunnel, request) saw it first.
      this.fail(options.signal?.aborted ? abortedError(options.signal) : err);
    });
    req.on('response', (res: IncomingMessage) => {
      if (this.req !== req) return;
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (options.followRedirects && location !== undefined && status >= 300 && status < 400) {
        this.abort();
        res.resume();
        if (++this.redirects > (options.maxRedirects ?? 10)) {
          this.fail(createError('WS_ERR_TOO_MANY_REDIRECTS', 'Maximum redirects exceeded'));
          return;
        }
        try {
          this.original ??= url;
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            throw createError('WS_ERR_INVALID_URL', `Invalid URL: ${location}`, {
              detail: `the Location of a ${status} redirect from ${url.href}`,
            });
          }
          this.connect(next);
        } catch (err) {
          // What a 'redirect' listener throws is the application's: thrown on, as in ws.
          if (this.inRedirectListener) {
            this.inRedirectListener = false;
            throw err;
          }
          this.fail(err as Error);
        }
        return;
      }
      if (!client.emit('unexpected-response', req, res)) {
        res.resume();
        this.fail(
          createError('WS_ERR_HANDSHAKE_REJECTED', `Unexpected server response: ${status}`, {
            status,
          }),
        );
      }
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.req !== req) {
        socket.destroy();
        return;
      }
      client.emit('upgrade', res);
      if (client.readyState !== ReadyState.CONNECTING) {
        socket.destroy();
        return;
      }
      this.req = null;
      let accepted: ReturnType<typeof checkUpgradeResponse>;
      let params: ReturnType<typeof acceptAsClient> | null = null;
      try {
        accepted = checkUpgradeResponse(res, {
          key,
          protocols,
          extensions: deflate === null ? [] : [PERMESSAGE_DEFLATE],
        });
        // As ws: a client that asked for subprotocols does not open without one.
        if (protocols.length > 0 && !accepted.protocol) {
          throw createError('WS_ERR_HANDSHAKE_INVALID_RESPONSE', 'Server sent no subprotocol', {
            detail: `offered: ${protocols.join(', ')}`,
          });
        }
        const response = accepted.extensions.find((e) => e.name === PERMESSAGE_DEFLATE);
        if (response !== undefined && deflate !== null)
          params = acceptAsClient(response, deflate.negotiation);
      } catch (err) {
        socket.destroy();
        this.fail(err as Error);
        return;
      }
      this.clearDeadline();
      client.handshakeDone(
        socket,
        head,
        negotiated(accepted.protocol, params, deflate, () => ({
          limiter: new Limiter(deflate!.concurrencyLimit),
          budget: new InflateBudget(options.inflateBudget ?? DEFAULT_INFLATE_BUDGET),
        })),
      );
    });
    if (options.finishRequest) options.finishRequest(req, client);
    else req.end();
  }
}

/** The TLS options of a wss:// connection made through a proxy tunnel (as https.request takes them). */
function tlsOptionsOf(options: ClientOptions): TlsConnectionOptions {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, checkServerIdentity } = options;
  const { ciphers, minVersion, maxVersion } = options;
  const tls: Record<string, unknown> = {
    ca,
    cert,
    key,
    pfx,
    passphrase,
    rejectUnauthorized,
    servername,
    checkServerIdentity,
    ciphers,
    minVersion,
    maxVersion,
  };
  for (const k of Object.keys(tls)) if (tls[k] === undefined) delete tls[k];
  return tls as TlsConnectionOptions;
}

/** Throws WS_ERR_INVALID_ARGUMENT, naming the option, for a client option of the wrong type. */
function checkClientOptions(options: ClientOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw argumentError(`WebSocket options must be an object; got ${String(options)}`);
  }
  const {
    headers,
    origin,
    handshakeTimeout,
    maxRedirects,
    followRedirects,
    finishRequest,
    createConnection,
    proxy,
    proxyAuth,
    signal,
  } = options as Record<string, unknown>;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw argumentError('Option signal must be an AbortSignal');
  }
  if (proxy !== undefined && proxy !== false && typeof proxy !== 'string' && !(proxy instanceof URL)) {
    throw argumentError("Option proxy must be a URL (string or URL), 'env' or false");
  }
  if (proxyAuth !== undefined && typeof proxyAuth !== 'string') {
    throw argumentError("Option proxyAuth must be a string 'user:password'");
  }
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
    throw argumentError('Option headers must be an object of header names and values');
  }
  if (origin !== undefined && typeof origin !== 'string')
    throw argumentError('Option origin must be a string');
  nonNegative('handshakeTimeout', handshakeTimeout);
  nonNegative('maxRedirects', maxRedirects);
  if (followRedirects !== undefined && typeof followRedirects !== 'boolean') {
    throw argumentError('Option followRedirects must be true or false');
  }
  if (finishRequest !== undefined && typeof finishRequest !== 'function') {
    throw argumentError('Option finishRequest must be a function');
  }
  if (createConnection !== undefined && typeof createConnection !== 'function') {
    throw argumentError('Option createConnection must be a function');
  }
}
