import { createError, type WebSocketError } from './errors.js';
import { acceptKey } from './handshake-keys.js';
import { type ExtensionOffer, headerHasToken, parseExtensions } from './header-tokens.js';

export interface UpgradeResponse {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface ExpectedUpgrade {
  /** The Sec-WebSocket-Key that was sent. */
  key: string;
  /** The subprotocols offered. */
  protocols: readonly string[];
  /** The names of the extensions offered. */
  extensions: readonly string[];
}

export interface ValidatedUpgrade {
  /** The subprotocol the server chose, or '' for none. */
  protocol: string;
  /** The extensions the server accepted, with their parameters. */
  extensions: ExtensionOffer[];
}

function invalid(message: string, detail?: string): WebSocketError {
  return createError('WS_ERR_HANDSHAKE_INVALID_RESPONSE', message, detail === undefined ? {} : { detail });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Checks the server's answer to our opening handshake (RFC 6455 §4.1, client side). Throws a
 * WebSocketError (WS_ERR_HANDSHAKE_INVALID_RESPONSE) naming the first rule broken: ws's text as the
 * message, in ws's order (Upgrade, Sec-WebSocket-Accept, subprotocol, extensions), wskit's own
 * Connection check after Sec-WebSocket-Accept; what was received in `detail`.
 */
export function checkUpgradeResponse(res: UpgradeResponse, expected: ExpectedUpgrade): ValidatedUpgrade {
  if (res.statusCode !== 101) throw invalid(`Unexpected server response: ${res.statusCode}`);
  const h = res.headers;
  if (!headerHasToken(h.upgrade, 'websocket')) {
    throw invalid('Invalid Upgrade header', `the 101 response has Upgrade: ${single(h.upgrade) ?? '(none)'}`);
  }
  if (single(h['sec-websocket-accept'])?.trim() !== acceptKey(expected.key)) {
    throw invalid('Invalid Sec-WebSocket-Accept header', 'it does not match the key sent');
  }
  if (!headerHasToken(h.connection, 'upgrade')) {
    throw invalid(
      'Invalid Connection header',
      `the 101 response has Connection: ${single(h.connection) ?? '(none)'}, which lacks "Upgrade"`,
    );
  }
  return checkNegotiation(h, expected);
}

/**
 * The subprotocol and extensions of a server's answer (RFC 6455 §4.1; RFC 8441 answers the same
 * way): a subprotocol that was offered, extensions that were offered, each at most once. Throws
 * WS_ERR_HANDSHAKE_INVALID_RESPONSE with ws's texts.
 */
export function checkNegotiation(
  h: Readonly<Record<string, string | string[] | undefined>>,
  expected: { readonly protocols: readonly string[]; readonly extensions: readonly string[] },
): ValidatedUpgrade {
  const protocolHeader = single(h['sec-websocket-protocol']);
  const protocol = protocolHeader?.trim() ?? '';
  if (protocolHeader !== undefined) {
    if (expected.protocols.length === 0) {
      throw invalid(
        'Server sent a subprotocol but none was requested',
        `it sent ${JSON.stringify(protocol)}`,
      );
    }
    if (!expected.protocols.includes(protocol)) {
      throw invalid(
        'Server sent an invalid subprotocol',
        protocol === ''
          ? 'empty Sec-WebSocket-Protocol header'
          : `it chose ${JSON.stringify(protocol)}, which was not offered (offered: ${expected.protocols.join(', ')})`,
      );
    }
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = single(h['sec-websocket-extensions']);
  if (extensionHeader !== undefined) {
    if (expected.extensions.length === 0) {
      throw invalid(
        'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
        `it sent ${JSON.stringify(extensionHeader)}`,
      );
    }
    try {
      extensions = parseExtensions(extensionHeader);
    } catch (err) {
      throw invalid('Invalid Sec-WebSocket-Extensions header', (err as { detail?: string }).detail);
    }
    const seen = new Set<string>();
    for (const ext of extensions) {
      if (!expected.extensions.includes(ext.name)) {
        throw invalid(
          'Server indicated an extension that was not requested',
          `it accepted ${ext.name}, which was not offered`,
        );
      }
      if (seen.has(ext.name)) {
        throw invalid('Invalid Sec-WebSocket-Extensions header', `it accepted ${ext.name} twice`);
      }
      seen.add(ext.name);
    }
  }
  return { protocol, extensions };
}
