import { checkNegotiation } from './client-handshake.js';
import { createError, WebSocketError } from './errors.js';
import { type ExtensionOffer, parseExtensions, parseProtocolList } from './header-tokens.js';

/**
 * The opening handshake of a WebSocket over HTTP/2 (RFC 8441): an extended CONNECT request
 * (`:method CONNECT`, `:protocol websocket`) answered with a 2xx. There is no Sec-WebSocket-Key or
 * -Accept and no Upgrade/Connection header; Sec-WebSocket-Version, -Protocol and -Extensions mean
 * what they mean in RFC 6455. Sans-I/O: header objects in, results out.
 */

/** The headers of an HTTP/2 request as Node gives them (pseudo-headers included, names lower case). */
export type Http2Headers = Record<string, string | string[] | number | undefined>;

export interface AcceptedExtendedConnect {
  ok: true;
  /** Subprotocols offered, in the client's order of preference. */
  protocols: string[];
  /** Extensions offered, in order. */
  extensions: ExtensionOffer[];
  origin: string | undefined;
}

export interface RefusedExtendedConnect {
  ok: false;
  status: number;
  reason: string;
  headers: Record<string, string>;
}

function single(value: unknown): string | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value)) return value.join(', ');
  return value === null ? undefined : String(value);
}

function refuse(
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): RefusedExtendedConnect {
  return { ok: false, status, reason, headers };
}

/** Whether an HTTP/2 request is an extended CONNECT for a WebSocket (RFC 8441 §4). */
export function isExtendedConnect(headers: Http2Headers): boolean {
  return headers[':method'] === 'CONNECT' && single(headers[':protocol'])?.toLowerCase() === 'websocket';
}

/**
 * Checks an extended CONNECT request (RFC 8441 §4, §5). Never throws: a request that breaks a rule
 * comes back refused, with the HTTP status and a one-line reason.
 */
export function checkExtendedConnect(
  headers: Http2Headers,
): AcceptedExtendedConnect | RefusedExtendedConnect {
  if (!isExtendedConnect(headers)) {
    return refuse(400, 'Not a WebSocket request: expected :method CONNECT with :protocol websocket');
  }
  // §4: an extended CONNECT carries :scheme and :path (and :authority), unlike a plain CONNECT.
  if (!single(headers[':scheme']) || !single(headers[':path'])) {
    return refuse(400, 'Extended CONNECT without :scheme or :path (RFC 8441 §4)');
  }
  if (!single(headers[':authority'])) return refuse(400, 'Extended CONNECT without :authority');
  const version = single(headers['sec-websocket-version'])?.trim();
  if (version !== '13') {
    // 426 belongs to HTTP/1.1's Upgrade, which HTTP/2 has not: 400, with the version to use.
    return refuse(400, `Unsupported Sec-WebSocket-Version ${JSON.stringify(version ?? '')}: use 13`, {
      'sec-websocket-version': '13',
    });
  }
  let protocols: string[] = [];
  let extensions: ExtensionOffer[] = [];
  try {
    const protocolHeader = single(headers['sec-websocket-protocol']);
    if (protocolHeader !== undefined) protocols = parseProtocolList(protocolHeader);
    const extensionHeader = single(headers['sec-websocket-extensions']);
    if (extensionHeader !== undefined) extensions = parseExtensions(extensionHeader);
  } catch (err) {
    if (err instanceof WebSocketError) return refuse(400, err.message);
    throw err;
  }
  return { ok: true, protocols, extensions, origin: single(headers.origin) };
}

export interface ExtendedConnectAnswer {
  /** The subprotocol chosen, if any: one the client offered. */
  protocol?: string | undefined;
  /** The Sec-WebSocket-Extensions value accepted, if any. */
  extensions?: string | undefined;
}

/** The response headers that accept an extended CONNECT: `:status 200` and the negotiated values. */
export function extendedConnectResponse(answer: ExtendedConnectAnswer): Record<string, string | number> {
  const headers: Record<string, string | number> = { ':status': 200 };
  if (answer.protocol) headers['sec-websocket-protocol'] = answer.protocol;
  if (answer.extensions) headers['sec-websocket-extensions'] = answer.extensions;
  return headers;
}

/** The request headers of an extended CONNECT for `path` on `authority` (RFC 8441 §5). */
export function extendedConnectRequest(options: {
  scheme: 'http' | 'https';
  authority: string;
  path: string;
  protocols: readonly string[];
  extensions?: string | undefined;
  origin?: string | undefined;
  headers?: Record<string, string> | undefined;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  // The application's headers first; what the handshake needs wins. Connection-specific headers are
  // forbidden in HTTP/2 (RFC 9113 §8.2.2) and have no meaning here.
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower) || lower.startsWith(':')) continue;
    headers[lower] = value;
  }
  if (headers.host !== undefined) delete headers.host;
  headers[':method'] = 'CONNECT';
  headers[':protocol'] = 'websocket';
  headers[':scheme'] = options.scheme;
  headers[':authority'] = options.authority;
  headers[':path'] = options.path;
  headers['sec-websocket-version'] = '13';
  if (options.protocols.length > 0) headers['sec-websocket-protocol'] = options.protocols.join(',');
  if (options.extensions) headers['sec-websocket-extensions'] = options.extensions;
  if (options.origin) headers.origin = options.origin;
  return headers;
}

const CONNECTION_SPECIFIC = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'sec-websocket-key',
]);

export interface ValidatedExtendedConnect {
  /** The subprotocol the server chose, or ''. */
  protocol: string;
  /** The extensions the server accepted. */
  extensions: ExtensionOffer[];
}

function _invalid(message: string): WebSocketError {
  return createError('WS_ERR_HANDSHAKE_INVALID_RESPONSE', message);
}

/**
 * Checks the server's answer to an extended CONNECT (RFC 8441 §5: any 2xx accepts). Throws
 * WS_ERR_HANDSHAKE_REJECTED for another status, WS_ERR_HANDSHAKE_INVALID_RESPONSE for a subprotocol
 * or an extension that was not offered.
 */
export function checkExtendedConnectResponse(
  headers: Http2Headers,
  expected: { protocols: readonly string[]; extensions: readonly string[] },
): ValidatedExtendedConnect {
  const status = Number(headers[':status']);
  if (!(status >= 200 && status < 300)) {
    throw createError('WS_ERR_HANDSHAKE_REJECTED', `Unexpected server response: ${status}`, {
      status,
    });
  }
  return checkNegotiation(headers as Record<string, string | string[] | undefined>, expected);
}
