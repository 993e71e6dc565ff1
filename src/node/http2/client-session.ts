import { type ClientHttp2Session, connect as connectHttp2 } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { ProxyTunnel } from '../handshake/proxy-tunnel.js';

/** The client options a session of its own is connected with (a part of ClientOptions). */
export interface Http2SessionOptions {
  /** 'user:password' for the proxy when its URL has no userinfo. */
  proxyAuth?: string;
  /** TLS options for an https:// proxy itself. */
  proxyTls?: TlsConnectionOptions;
}

/** The TLS options of the connection to the server (wss://), as tls.connect takes them. */
const TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'checkServerIdentity',
  'ciphers',
  'minVersion',
  'maxVersion',
] as const;

/** Options of the TCP connection, for a session connected directly (a tunnel's goes to the proxy). */
const TCP_OPTIONS = ['localAddress', 'family', 'lookup'] as const;

export type SessionCallback = (error: Error | null, session?: ClientHttp2Session) => void;

/**
 * Connects the HTTP/2 session of a client that was given none (option http2: true) to `url`'s origin,
 * over TLS for wss:// (ALPN h2) or cleartext for ws:// (h2c), and calls `done` with it: at once
 * without a proxy; with `proxy`, once its CONNECT tunnel is open (the TLS with the server then runs
 * over the tunnel), or with the tunnel's error (WS_ERR_PROXY_REJECTED...). Returns the tunnel being
 * opened, or null: its destroy() gives up, and `done` is then never called.
 */
export function connectSession(
  url: URL,
  options: Http2SessionOptions,
  proxy: URL | null,
  done: SessionCallback,
): ProxyTunnel | null {
  const secure = url.protocol === 'wss:';
  const authority = `${secure ? 'https' : 'http'}://${url.host}`;
  const tls = pick(options, TLS_OPTIONS);
  if (proxy === null) {
    done(null, connectHttp2(authority, { ...tls, ...pick(options, TCP_OPTIONS) }));
    return null;
  }
  return new ProxyTunnel(
    {
      proxy,
      auth: options.proxyAuth,
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: Number(url.port || (secure ? 443 : 80)),
      tls: secure ? { ...tls, ALPNProtocols: ['h2'] } : null,
      proxyTls: options.proxyTls,
      // The handshake's deadline and its signal cover the tunnel: they destroy() it.
      timeout: undefined,
      signal: undefined,
    },
    (err, socket) => {
      if (err !== null) done(err);
      else done(null, connectHttp2(authority, { ...tls, createConnection: () => socket! }));
    },
  );
}

function pick(options: object, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
