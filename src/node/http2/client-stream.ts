import { Buffer } from 'node:buffer';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { EMPTY_BUFFER, ReadyState } from '../../protocol/constants.js';
import { argumentError, createError } from '../../protocol/errors.js';
import {
  checkExtendedConnectResponse,
  extendedConnectRequest,
  type Http2Headers,
} from '../../protocol/extended-connect.js';
import { acceptAsClient, clientOffer, PERMESSAGE_DEFLATE } from '../../protocol/permessage-deflate.js';
import { DEFAULT_INFLATE_BUDGET, InflateBudget } from '../deflate/inflate-budget.js';
import { Limiter } from '../deflate/limiter.js';
import type { ResolvedDeflate } from '../deflate/options.js';
import type { HandshakeClient } from '../handshake/client-handshake.js';
import { negotiated } from '../handshake/negotiated.js';
import { type ProxyOption, proxyFor } from '../handshake/proxy-route.js';
import { abortedError, type ProxyTunnel } from '../handshake/proxy-tunnel.js';
import { connectSession, type Http2SessionOptions } from './client-session.js';

/** The client options of WebSockets over HTTP/2 (RFC 8441); see docs/http2.md. */
export interface Http2ClientOptions {
  /**
   * Open the WebSocket as a stream of an HTTP/2 session (an extended CONNECT, RFC 8441) instead of an
   * HTTP/1.1 upgrade: a new session to the URL's origin, over TLS for wss:// (ALPN h2) or cleartext
   * for ws:// (h2c, prior knowledge). The connection fails with WS_ERR_HTTP2_UNSUPPORTED when the
   * server does not accept WebSockets over HTTP/2. Default false.
   */
  http2?: boolean;
  /**
   * An open http2 session (from http2.connect) to open the WebSocket on, beside its other streams;
   * implies `http2`. The session stays the caller's: closing the WebSocket ends its stream only.
   */
  http2Session?: ClientHttp2Session;
}

/** The options of a client handshake this file reads (a part of ClientOptions). */
export interface Http2HandshakeOptions extends Http2ClientOptions, Http2SessionOptions {
  headers?: Record<string, string>;
  origin?: string;
  handshakeTimeout?: number;
  inflateBudget?: number;
  auth?: string;
  /** Aborts the handshake: the stream, and the session when it is this handshake's own. */
  signal?: AbortSignal;
  /** With `http2: true`, the session is opened through this proxy's CONNECT tunnel. */
  proxy?: ProxyOption;
}

/**
 * A client's opening handshake over HTTP/2 (RFC 8441 §5): waits for the server's SETTINGS to allow
 * extended CONNECT, sends `CONNECT :protocol websocket`, checks the 2xx answer, and hands the stream
 * to the WebSocket, which then reads and writes it as a socket. Owns the session it opened (closed
 * when the stream is; through a proxy's CONNECT tunnel when `proxy` applies, see client-session.ts);
 * a session given by the caller is left open.
 */
export class Http2ClientHandshake {
  private readonly client: HandshakeClient;
  private readonly url: URL;
  private readonly protocols: string[];
  private readonly options: Http2HandshakeOptions;
  private readonly deflate: ResolvedDeflate | null;
  private session: ClientHttp2Session | null = null;
  private ownSession = false;
  private stream: ClientHttp2Stream | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The CONNECT tunnel being opened through a proxy (option proxy), before the session has a socket. */
  private tunnel: ProxyTunnel | null = null;
  private done = false;

  constructor(
    client: HandshakeClient,
    url: URL,
    protocols: string[],
    options: Http2HandshakeOptions,
    deflate: ResolvedDeflate | null,
  ) {
    this.client = client;
    this.url = url;
    this.protocols = protocols;
    this.options = options;
    this.deflate = deflate;
  }

  /** The proxy's host while its CONNECT tunnel is being opened (for the deadline's message). */
  get tunnelProxyHost(): string | undefined {
    return this.tunnel?.proxyHost;
  }

  start(): void {
    const { url, options } = this;
    if (options.http2 !== undefined && typeof options.http2 !== 'boolean') {
      throw argumentError(`Option http2 must be true or false; got ${String(options.http2)}`);
    }
    const shape = options.http2Session as { request?: unknown } | undefined;
    if (
      shape !== undefined &&
      (typeof shape !== 'object' || shape === null || typeof shape.request !== 'function')
    ) {
      throw argumentError('Option http2Session must be a ClientHttp2Session (from http2.connect)');
    }
    if (url.protocol === 'ws+unix:') {
      throw createError('WS_ERR_INVALID_URL', `Invalid URL ${url.href}: http2 needs ws:// or wss://`);
    }
    const secure = url.protocol === 'wss:';
    const given = options.http2Session ?? null;
    if (given !== null) {
      if (options.proxy !== undefined && options.proxy !== false) {
        // The caller's session is already connected: there is no connection left to tunnel.
        throw argumentError(
          'Option proxy does not apply with http2Session (a session you opened is already connected): ' +
            "open that session through the proxy yourself (http2.connect's createConnection), " +
            'or use http2: true with proxy and wskit opens the session through the tunnel',
        );
      }
      if (given.destroyed || given.closed) {
        throw createError('WS_ERR_INVALID_STATE', 'Option http2Session: the session is closed');
      }
    }
    // Read before anything connects: a bad proxy URL throws here, as over HTTP/1.1.
    const proxy = given === null ? proxyFor(options.proxy, url) : null;
    // 0 is no deadline, as over HTTP/1.1.
    if (options.handshakeTimeout !== undefined && options.handshakeTimeout > 0) {
      this.timer = setTimeout(() => {
        const where = this.tunnel === null ? '' : ` (the proxy ${this.tunnel.proxyHost} opened no tunnel)`;
        this.fail(
          createError('WS_ERR_HANDSHAKE_TIMEOUT', 'Opening handshake has timed out', {
            detail: `after ${options.handshakeTimeout} ms${where}`,
          }),
        );
      }, options.handshakeTimeout);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      // Already aborted: fail before connecting anything ('error' and 'close' come on a later tick).
      if (signal.aborted) {
        this.fail(abortedError(signal));
        return;
      }
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (given !== null) {
      this.open(given, secure);
      return;
    }
    this.ownSession = true;
    // Directly (`done` called at once), or through the proxy's tunnel (`done` called later).
    this.tunnel = connectSession(url, options, proxy, (err, session) => {
      this.tunnel = null;
      if (err !== null) this.fail(err);
      else this.open(session!, secure);
    });
  }

  /** Waits on `session` for the server's SETTINGS, then sends the extended CONNECT. */
  private open(session: ClientHttp2Session, secure: boolean): void {
    const { url } = this;
    this.session = session;
    session.on('error', this.onSessionError);
    session.on('close', this.onSessionClose);
    this.whenSettled(session, (enabled) => {
      if (this.done) return;
      if (!enabled) {
        this.fail(
          createError(
            'WS_ERR_HTTP2_UNSUPPORTED',
            `The server at ${url.host} does not accept WebSockets over HTTP/2 (its SETTINGS have no ` +
              'SETTINGS_ENABLE_CONNECT_PROTOCOL): connect without the http2 option',
          ),
        );
        return;
      }
      this.request(session, secure);
    });
  }

  /**
   * Calls `then` once the server's SETTINGS say whether extended CONNECT is allowed (RFC 8441 §3):
   * at once when they already did; else at the next SETTINGS, or, for a session that had its SETTINGS
   * before, at the answer to a PING (the server's SETTINGS come before any frame of its own).
   */
  private whenSettled(session: ClientHttp2Session, then: (enabled: boolean) => void): void {
    if (!session.connecting && session.remoteSettings.enableConnectProtocol === true) {
      then(true);
      return;
    }
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      session.removeListener('remoteSettings', settle);
      then(session.remoteSettings.enableConnectProtocol === true);
    };
    session.on('remoteSettings', settle);
    // ping() returns false when too many PINGs are already outstanding: the setting is then taken as is.
    if (!session.connecting && !session.ping(() => settle())) settle();
  }

  private request(session: ClientHttp2Session, secure: boolean): void {
    const { url, options, protocols, deflate } = this;
    const headers = extendedConnectRequest({
      scheme: secure ? 'https' : 'http',
      authority: url.host,
      path: `${url.pathname}${url.search}`,
      protocols,
      extensions: deflate === null ? undefined : clientOffer(deflate.negotiation),
      origin: options.origin,
      headers: withAuthorization(options.headers, url, options.auth),
    });
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.stream = stream;
    stream.on('error', this.onStreamError);
    stream.on('close', this.onStreamClose);
    stream.once('response', (response: IncomingHttpHeaders) => this.response(stream, response));
  }

  private response(stream: ClientHttp2Stream, response: IncomingHttpHeaders): void {
    if (this.done) return;
    const headers = response as Http2Headers;
    this.client.emit('upgrade', {
      statusCode: Number(headers[':status']),
      headers: response,
      httpVersion: '2.0',
    });
    if (this.client.readyState !== ReadyState.CONNECTING) {
      this.abort();
      return;
    }
    const deflate = this.deflate;
    let params: ReturnType<typeof acceptAsClient> | null = null;
    let protocol: string;
    try {
      const accepted = checkExtendedConnectResponse(headers, {
        protocols: this.protocols,
        extensions: deflate === null ? [] : [PERMESSAGE_DEFLATE],
      });
      protocol = accepted.protocol;
      if (this.protocols.length > 0 && !protocol) {
        throw createError('WS_ERR_HANDSHAKE_INVALID_RESPONSE', 'Server sent no subprotocol', {
          detail: `offered: ${this.protocols.join(', ')}`,
        });
      }
      const answer = accepted.extensions.find((e) => e.name === PERMESSAGE_DEFLATE);
      if (answer !== undefined && deflate !== null) params = acceptAsClient(answer, deflate.negotiation);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.finish();
    stream.removeListener('error', this.onStreamError);
    stream.removeListener('close', this.onStreamClose);
    // After the handshake, a session error reaches the stream (which the connection reports as 1006);
    // a session of our own (its errors ignored by finish()) goes with its one stream.
    const session = this.session!;
    if (this.ownSession) stream.once('close', () => session.close());
    this.client.handshakeDone(
      stream,
      EMPTY_BUFFER,
      negotiated(protocol, params, deflate, () => ({
        limiter: new Limiter(deflate!.concurrencyLimit),
        budget: new InflateBudget(this.options.inflateBudget ?? DEFAULT_INFLATE_BUDGET),
      })),
    );
  }

  /** Aborts the handshake in progress (close() or terminate() while connecting). */
  abort(): void {
    if (this.done) return;
    this.finish();
    this.tunnel?.destroy();
    this.tunnel = null;
    this.stream?.destroy();
    if (this.ownSession) this.session?.destroy();
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.session?.removeListener('error', this.onSessionError);
    this.session?.removeListener('close', this.onSessionClose);
    if (this.ownSession) this.session?.on('error', ignore);
  }

  private fail(error: Error): void {
    if (this.done) return;
    this.abort();
    this.client.handshakeFailed(error);
  }

  private readonly onAbort = () => this.fail(abortedError(this.options.signal));

  private readonly onSessionError = (err: Error) => {
    const code = (err as { code?: string }).code;
    if (
      code === 'ERR_HTTP2_ERROR' ||
      code === 'ERR_SSL_NO_APPLICATION_PROTOCOL' ||
      /ALPN|application protocol/i.test(err.message)
    ) {
      this.fail(
        createError(
          'WS_ERR_HTTP2_UNSUPPORTED',
          `The server at ${this.url.host} does not speak HTTP/2 (${err.message}): connect without the http2 option`,
          { cause: err },
        ),
      );
      return;
    }
    this.fail(err);
  };

  private readonly onSessionClose = () => {
    this.fail(
      createError(
        'WS_ERR_HANDSHAKE_REJECTED',
        `The HTTP/2 session to ${this.url.host} closed before the WebSocket opened`,
      ),
    );
  };

  private readonly onStreamError = (err: Error) => this.fail(err);

  private readonly onStreamClose = () => {
    const code = this.stream?.rstCode;
    this.fail(
      createError(
        'WS_ERR_HANDSHAKE_REJECTED',
        `The server reset the WebSocket's HTTP/2 stream before answering (RST_STREAM code ${code ?? 'none'})`,
      ),
    );
  };
}

function ignore(): void {}

/** The request headers with the URL's userinfo (or `auth`) as Basic credentials, as over HTTP/1.1. */
function withAuthorization(
  headers: Record<string, string> | undefined,
  url: URL,
  auth: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  const credentials =
    url.username || url.password
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : auth;
  if (credentials && out.authorization === undefined) {
    out.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return out;
}
