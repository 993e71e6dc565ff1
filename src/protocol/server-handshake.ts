import { WebSocketError } from './errors.js';
import { acceptKey, isValidKey } from './handshake-keys.js';
import { type ExtensionOffer, headerHasToken, parseExtensions, parseProtocolList } from './header-tokens.js';

/** The parts of an HTTP request the handshake looks at; Node's IncomingMessage fits. */
export interface UpgradeRequest {
  method?: string;
  httpVersion?: string;
  /** Header names in lower case, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
}

export interface AcceptedUpgrade {
  ok: true;
  key: string;
  version: number;
  /** Subprotocols offered, in the client's order of preference. */
  protocols: string[];
  /** Extensions offered, in order. */
  extensions: ExtensionOffer[];
  origin: string | undefined;
}

export interface RefusedUpgrade {
  ok: false;
  /** The HTTP status to answer with. */
  status: number;
  /** A one-line reason, the response body: ws's text where ws refuses the request too. */
  reason: string;
  /** What wskit adds to the reason (what was received, what was expected); not sent. */
  detail?: string;
  /** Headers the response must carry (e.g. Sec-WebSocket-Version with a refused version). */
  headers: Record<string, string>;
  /**
   * The request is not this server's (`shouldHandle` said no: another path), not a malformed one: an
   * adapter answers it and does not report it as a client error (ws's 'wsClientError' is not emitted).
   */
  notOurs?: true;
}

function refuse(
  status: number,
  reason: string,
  detail?: string,
  headers: Record<string, string> = {},
): RefusedUpgrade {
  return detail === undefined
    ? { ok: false, status, reason, headers }
    : { ok: false, status, reason, detail, headers };
}

/**
 * A header's value as one string. Node's parser gives strings (or arrays of them), but a request
 * built by hand may carry a number (`'sec-websocket-version': 13`, as some test helpers do).
 */
function single(value: unknown): string | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value)) return value.join(', ');
  return value === null ? undefined : String(value);
}

/**
 * The Sec-WebSocket-Version values a server accepts by default, as ws: RFC 6455's 13, and 8
 * (hybi-08, whose framing and handshake are RFC 6455's; only its Origin header is named
 * Sec-WebSocket-Origin).
 */
export const DEFAULT_VERSIONS: readonly number[] = Object.freeze([13, 8]);

/** What checkUpgradeRequest accepts besides RFC 6455's rules. */
export interface UpgradeCheckOptions {
  /**
   * The Sec-WebSocket-Version values accepted, as listed in a refusal's Sec-WebSocket-Version
   * header. Default [13, 8]; `legacy.hybi08: true` gives [13, 8, 7], `legacy.hybi08: false` [13].
   */
  versions?: readonly number[];
  /**
   * Whether the request is for this server (its path), asked after the version and before the
   * subprotocols and extensions are parsed, in ws's order; false refuses it with 400.
   */
  shouldHandle?: (req: UpgradeRequest) => boolean;
}

const INVALID_EXTENSIONS = 'Invalid or unacceptable Sec-WebSocket-Extensions header';

/**
 * Checks a client's opening handshake (RFC 6455 §4.2.1). Never throws: a request that breaks a rule
 * comes back refused, with the HTTP status, a one-line reason (ws's text) and a detail. The checks
 * run in ws 8's order, with its statuses and texts: method (405), Upgrade (400), Sec-WebSocket-Key
 * (400), Sec-WebSocket-Version (400, listing the versions accepted: RFC 6455 §4.4 allows any fitting
 * status), path (400), Sec-WebSocket-Protocol (400), Sec-WebSocket-Extensions (400); then wskit's
 * own: an HTTP version before 1.1 (505), no Host (400), a Connection without "Upgrade" (400).
 */
export function checkUpgradeRequest(
  req: UpgradeRequest,
  options?: UpgradeCheckOptions,
): AcceptedUpgrade | RefusedUpgrade {
  if (req.method !== undefined && req.method !== 'GET') {
    return refuse(405, 'Invalid HTTP method', `the opening handshake is a GET; got ${req.method}`, {
      Allow: 'GET',
    });
  }
  const h = req.headers;
  if (!headerHasToken(h.upgrade, 'websocket')) {
    const got = single(h.upgrade);
    return refuse(
      400,
      'Invalid Upgrade header',
      `expected "websocket"; got ${got === undefined ? 'no Upgrade header' : JSON.stringify(got)}`,
    );
  }
  const key = single(h['sec-websocket-key'])?.trim();
  if (key === undefined || !isValidKey(key)) {
    return refuse(400, 'Missing or invalid Sec-WebSocket-Key header', 'expected 16 bytes in base64');
  }
  const versions = options?.versions ?? DEFAULT_VERSIONS;
  const versionText = single(h['sec-websocket-version'])?.trim();
  const version =
    versionText === '13'
      ? 13
      : versionText !== undefined && /^\d{1,3}$/.test(versionText)
        ? Number(versionText)
        : 0;
  if (!versions.includes(version)) {
    const accepted = versions.join(', ');
    return refuse(
      400,
      'Missing or invalid Sec-WebSocket-Version header',
      `got ${JSON.stringify(versionText ?? '')}; this server speaks ${accepted}`,
      { 'Sec-WebSocket-Version': accepted },
    );
  }
  if (options?.shouldHandle !== undefined && !options.shouldHandle(req)) {
    // ws answers with the status text alone.
    return { ...refuse(400, 'Bad Request', 'Invalid URL path for this WebSocket server'), notOurs: true };
  }
  let protocols: string[] = [];
  const protocolHeader = single(h['sec-websocket-protocol']);
  if (protocolHeader !== undefined) {
    try {
      protocols = parseProtocolList(protocolHeader);
    } catch (err) {
      if (!(err instanceof WebSocketError)) throw err;
      return refuse(400, err.message, err.detail);
    }
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = single(h['sec-websocket-extensions']);
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensions(extensionHeader);
    } catch (err) {
      if (!(err instanceof WebSocketError)) throw err;
      return refuse(400, INVALID_EXTENSIONS, err.detail);
    }
  }
  // ---- wskit's own checks, after ws's ----
  if (req.httpVersion !== undefined && req.httpVersion !== '1.1') {
    const [major, minor] = req.httpVersion.split('.').map(Number);
    if (!(major > 1 || (major === 1 && minor >= 1))) {
      return refuse(505, `HTTP/${req.httpVersion} is too old: the opening handshake needs HTTP/1.1 or later`);
    }
  }
  if (!single(h.host)) return refuse(400, 'Missing Host header', 'RFC 6455 §4.1 requires it');
  if (!headerHasToken(h.connection, 'upgrade')) {
    return refuse(400, 'Missing or invalid Connection header', 'expected a list containing "Upgrade"');
  }
  // hybi-07 and -08 name the Origin header Sec-WebSocket-Origin.
  const origin = single(version < 13 ? h['sec-websocket-origin'] : h.origin);
  return { ok: true, key, version, protocols, extensions, origin };
}

export interface UpgradeResponseOptions {
  key: string;
  /** The subprotocol chosen, if any: one the client offered. */
  protocol?: string | undefined;
  /** The Sec-WebSocket-Extensions value accepted, if any. */
  extensions?: string | undefined;
}

/** The whole 101 response, blank line included: upgradeResponseLines joined, in one string. */
export function upgradeResponse(options: UpgradeResponseOptions): string {
  let text = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(options.key)}\r\n`;
  if (options.protocol) text += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  if (options.extensions) text += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  return `${text}\r\n`;
}

/** The header lines of the 101 response (without the blank line that ends them). */
export function upgradeResponseLines(options: UpgradeResponseOptions): string[] {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(options.key)}`,
  ];
  if (options.protocol) lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  if (options.extensions) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  return lines;
}
