/**
 * Which pages may open the chat's WebSocket: the browser's `Origin` header must be on a list. By
 * default the list is the origins of the addresses the server listens on (a page it served itself,
 * reached by address or as localhost), plus those given. Comparing with the request's own `Host`
 * header instead would let a DNS-rebinding page in: its `Host` and its `Origin` both name the
 * attacker's domain, which resolves to this server.
 */
import { networkInterfaces } from 'node:os';
import { WebSocketError } from '../index.js';

/** `scheme://host[:port]`, as browsers send it (lowercase host, no default port). Throws if it is not an origin. */
export function normalizeOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidOrigin(raw);
  }
  const bare = url.pathname === '/' || url.pathname === '';
  if (
    !/^https?:$/.test(url.protocol) ||
    !bare ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  ) {
    throw invalidOrigin(raw);
  }
  return url.origin;
}

function invalidOrigin(raw: string): WebSocketError {
  return new WebSocketError(
    'WS_ERR_INVALID_ARGUMENT',
    `Not an origin: ${JSON.stringify(raw)}; expected http:// or https://, a host and an optional port, nothing after (e.g. https://chat.example.com)`,
  );
}

function origin(host: string, port: number): string {
  return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}`).origin;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';
}

/**
 * The origins of a page served from `address:port`: that address, `localhost` for a loopback one, and
 * every address of the machine's interfaces for a wildcard one (0.0.0.0: IPv4 only; ::, both).
 */
export function listeningOrigins(
  address: string,
  port: number,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string[] {
  let addresses: string[];
  if (address === '0.0.0.0' || address === '::') {
    addresses = Object.values(interfaces)
      .flatMap((list) => list ?? [])
      .filter((i) => address === '::' || i.family === 'IPv4')
      .map((i) => i.address);
  } else {
    addresses = [address];
  }
  const origins = addresses.map((a) => origin(a, port));
  if (addresses.some(isLoopback)) origins.push(origin('localhost', port));
  return [...new Set(origins)];
}

export class AllowedOrigins {
  private readonly extra: ReadonlySet<string>;
  private readonly listening: () => { address: string; port: number } | null;

  /**
   * `extra`: origins allowed as well (validated here: a bad one throws WS_ERR_INVALID_ARGUMENT).
   * `listening`: where the server listens, read at each check (interfaces may come and go).
   */
  constructor(extra: readonly string[], listening: () => { address: string; port: number } | null) {
    this.extra = new Set(extra.map(normalizeOrigin));
    this.listening = listening;
  }

  /** Whether a connection with this `Origin` header is let in; without one (not a browser), it is. */
  allows(raw: string | undefined): boolean {
    if (raw === undefined) return true;
    let candidate: string;
    try {
      candidate = normalizeOrigin(raw);
    } catch {
      return false; // "null" (a sandboxed page, a file), or garbage
    }
    if (this.extra.has(candidate)) return true;
    const at = this.listening();
    return at !== null && listeningOrigins(at.address, at.port).includes(candidate);
  }
}
