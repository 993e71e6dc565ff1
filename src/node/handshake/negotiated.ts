import type { DeflateParams } from '../../protocol/permessage-deflate.js';
import type { Protocol, ProtocolHandler, ProtocolOptions } from '../../protocol/protocol.js';
import type { InflateBudget } from '../deflate/inflate-budget.js';
import type { Limiter } from '../deflate/limiter.js';
import type { ResolvedDeflate } from '../deflate/options.js';

/** What an opening handshake settled, for the connection it opens. */
export interface Negotiated {
  /** The subprotocol chosen by the server, if any. */
  protocol?: string;
  /** The Sec-WebSocket-Extensions names in force ('permessage-deflate' or ''). */
  extensions?: string;
  /** permessage-deflate's parameters, the local settings, and the zlib limiter and inflate budget
   * of the server (or of the client connection), when negotiated. */
  deflate?: { params: DeflateParams; settings: ResolvedDeflate; limiter: Limiter; budget: InflateBudget };
  /**
   * The framing, when it is not RFC 6455's (a hixie-76 connection): makes the connection's Protocol
   * in place of `new Protocol(handler, options)`.
   */
  framing?: (handler: ProtocolHandler, options: ProtocolOptions) => Protocol;
}

/**
 * What a handshake settled with permessage-deflate's parameters (or none): `settings`, the zlib
 * `limiter` and the inflate `budget` are the server's (shared by its connections) or, for a client,
 * made for the connection by `shared()`.
 */
export function negotiated(
  protocol: string | undefined,
  params: DeflateParams | null,
  settings: ResolvedDeflate | null,
  shared: () => { limiter: Limiter; budget: InflateBudget },
): Negotiated {
  return {
    protocol,
    extensions: params === null || settings === null ? '' : 'permessage-deflate',
    deflate: params === null || settings === null ? undefined : { params, settings, ...shared() },
  };
}
