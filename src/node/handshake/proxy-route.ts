import process from 'node:process';
import { argumentError } from '../../protocol/errors.js';

/**
 * The `proxy` client option: a proxy URL (every connection goes through it), 'env' (the proxy the
 * environment names for the URL's scheme, unless NO_PROXY or a loopback target says otherwise), or
 * false / undefined (no proxy, the default, as in ws).
 */
export type ProxyOption = string | URL | false | 'env';

/** What is read of the environment: process.env, or a stand-in (tests). */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The proxy to tunnel through to `target` (a ws: or wss: URL), or null for a direct connection.
 * Throws WS_ERR_INVALID_ARGUMENT for a proxy URL that is not http: or https:.
 */
export function proxyFor(
  option: ProxyOption | undefined,
  target: URL,
  env: ProxyEnvironment = process.env,
): URL | null {
  if (option === undefined || option === false || target.protocol === 'ws+unix:') return null;
  if (option !== 'env') return parseProxyUrl(option, 'Option proxy');
  if (isLoopback(target.hostname)) return null;
  const secure = target.protocol === 'wss:';
  // The lower-case names first, as curl: a CGI script gets the request's "Proxy:" header as
  // HTTP_PROXY (httpoxy), so curl reads no upper-case HTTP_PROXY at all; wskit reads it second.
  const value = secure ? (env.https_proxy ?? env.HTTPS_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  if (value === undefined || value.trim() === '') return null;
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  if (bypasses(noProxy, target.hostname, defaultPort(target))) return null;
  return parseProxyUrl(value.trim(), secure ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'wss:' ? '443' : '80');
}

/** A proxy URL; 'host:port' without a scheme means http://, as in curl. */
function parseProxyUrl(value: string | URL, source: string): URL {
  let url: URL;
  try {
    url =
      value instanceof URL
        ? value
        : new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw argumentError(`${source} is not a URL: ${String(value)} (use http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw argumentError(
      `${source}: a ${url.protocol} proxy is not supported; use an http:// or https:// proxy (HTTP CONNECT)`,
    );
  }
  return url;
}

/** 'localhost', 127.0.0.0/8 and ::1: never sent to a proxy from the environment (it has its own). */
export function isLoopback(hostname: string): boolean {
  const host = unbracket(hostname).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Whether NO_PROXY exempts a host: entries separated by commas (or spaces); '*' exempts every host;
 * 'example.com' and '.example.com' exempt example.com and its subdomains; an entry with ':port'
 * applies to that port only; IP addresses match exactly ('[::1]' or '::1'). Case does not matter.
 */
export function bypasses(noProxy: string, hostname: string, port: string): boolean {
  const host = unbracket(hostname).toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed !== null) {
      entry = bracketed[1] as string;
      entryPort = bracketed[2];
    } else {
      const colon = entry.lastIndexOf(':');
      // One colon: host:port. More than one: an unbracketed IPv6 address, no port.
      if (colon !== -1 && entry.indexOf(':') === colon) {
        entryPort = entry.slice(colon + 1);
        entry = entry.slice(0, colon);
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    if (entry.startsWith('*.')) entry = entry.slice(1);
    const domain = entry.startsWith('.') ? entry.slice(1) : entry;
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}
