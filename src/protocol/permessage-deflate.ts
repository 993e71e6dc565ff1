import { createError } from './errors.js';
import { type ExtensionOffer, formatExtensions } from './header-tokens.js';

/** The extension's name in Sec-WebSocket-Extensions (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** What an endpoint is willing to agree to (RFC 7692 §7.1). */
export interface DeflateNegotiationOptions {
  /**
   * The server compresses each message with an empty window (§7.1.1.1). A server's default is true:
   * it then keeps no compression state per connection. A client's default is false (it does not ask
   * for it, as ws's client does not); the server may still choose it.
   */
  serverNoContextTakeover?: boolean;
  /**
   * The client compresses each message with an empty window (§7.1.1.2). A server's default is true:
   * it then keeps no decompression state per connection (a server may demand it even if not offered).
   * A client's default is false, as ws's.
   */
  clientNoContextTakeover?: boolean;
  /** Largest window (8-15) the server compresses with. Default 15. zlib makes 8 a 9 (see negotiateAsServer). */
  serverMaxWindowBits?: number;
  /**
   * Largest window (8-15) the client may compress with, when the client offers the parameter. Default
   * 15; `true` (as in ws) is the same as 15: a client offers `client_max_window_bits` with no value.
   */
  clientMaxWindowBits?: number | true;
}

/** The parameters both ends agreed to ("agreed parameters" in RFC 7692). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The window the server compresses with (15 when not negotiated). */
  serverMaxWindowBits: number;
  /** The window the client compresses with (15 when not negotiated). */
  clientMaxWindowBits: number;
}

function windowBits(name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 8 || v > 15) {
    throw createError(
      'WS_ERR_INVALID_ARGUMENT',
      `Option ${name} must be an integer from 8 to 15; got ${String(v)}`,
    );
  }
  return v;
}

/** The negotiation options with their defaults filled in and checked. */
export interface ResolvedNegotiationOptions {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/**
 * Options filled with the defaults of `role` and checked; throws WS_ERR_INVALID_ARGUMENT. A server
 * defaults to no context takeover both ways; a client asks for neither, as ws's does.
 */
export function resolveNegotiationOptions(
  options: DeflateNegotiationOptions = {},
  role: 'server' | 'client' = 'server',
): ResolvedNegotiationOptions {
  const byDefault = role === 'server';
  const clientBits = options.clientMaxWindowBits === true ? 15 : options.clientMaxWindowBits;
  return {
    serverNoContextTakeover: options.serverNoContextTakeover ?? byDefault,
    clientNoContextTakeover: options.clientNoContextTakeover ?? byDefault,
    serverMaxWindowBits: windowBits('serverMaxWindowBits', options.serverMaxWindowBits, 15),
    clientMaxWindowBits: windowBits('clientMaxWindowBits', clientBits, 15),
  };
}

/** Parses the value of a window-bits parameter: a decimal integer from 8 to 15, nothing else. */
function parseBits(value: string | true): number | null {
  if (value === true || !/^(8|9|1[0-5])$/.test(value)) return null;
  return Number(value);
}

interface ParsedOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  /** true: offered without a value; a number: offered with one; null: not offered. */
  clientMaxWindowBits: number | true | null;
}

/** Checks one permessage-deflate element's parameters; null when malformed (unknown, repeated or out of range). */
function parseOffer(offer: ExtensionOffer, isResponse: boolean): ParsedOffer | null {
  const parsed: ParsedOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  const seen = new Set<string>();
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
        if (value !== true) return null;
        parsed.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return null;
        parsed.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = parseBits(value);
        if (bits === null) return null;
        parsed.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          if (isResponse) return null; // a response must give the value
          parsed.clientMaxWindowBits = true;
        } else {
          const bits = parseBits(value);
          if (bits === null) return null;
          parsed.clientMaxWindowBits = bits;
        }
        break;
      }
      default:
        return null;
    }
  }
  return parsed;
}

export interface ServerNegotiation {
  params: DeflateParams;
  /** The element to put in the response's Sec-WebSocket-Extensions. */
  response: ExtensionOffer;
}

/**
 * Server side (RFC 7692 §7.1): accepts the first acceptable permessage-deflate offer, or none. Offers
 * with unknown, repeated or out-of-range parameters are declined, as are offers the configuration
 * cannot honour (a server_max_window_bits below what we may use is accepted by using that window;
 * 8 is raised to 9 by zlib, so an offer demanding 8 is declined).
 */
export function negotiateAsServer(
  offers: readonly ExtensionOffer[],
  options: ResolvedNegotiationOptions,
): ServerNegotiation | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const o = parseOffer(offer, false);
    if (o === null) continue;
    // zlib's raw deflate has no 256-byte window (it raises 8 to 9): an offer demanding 8 is declined,
    // and our own setting of 8 means 9.
    if (o.serverMaxWindowBits === 8) continue;
    const serverBits = Math.max(9, Math.min(o.serverMaxWindowBits ?? 15, options.serverMaxWindowBits));
    const serverNoContextTakeover = o.serverNoContextTakeover || options.serverNoContextTakeover;
    const clientNoContextTakeover = o.clientNoContextTakeover || options.clientNoContextTakeover;
    let clientBits = 15;
    if (o.clientMaxWindowBits !== null) {
      const offered = o.clientMaxWindowBits === true ? 15 : o.clientMaxWindowBits;
      clientBits = Math.min(offered, options.clientMaxWindowBits);
    }
    const params: DeflateParams = {
      serverNoContextTakeover,
      clientNoContextTakeover,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const response: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params: [] };
    if (serverNoContextTakeover) response.params.push(['server_no_context_takeover', true]);
    if (clientNoContextTakeover) response.params.push(['client_no_context_takeover', true]);
    if (o.serverMaxWindowBits !== null) response.params.push(['server_max_window_bits', String(serverBits)]);
    if (o.clientMaxWindowBits !== null && clientBits < 15) {
      response.params.push(['client_max_window_bits', String(clientBits)]);
    }
    return { params, response };
  }
  return null;
}

/** Client side: the offer to send. */
export function clientOffer(options: ResolvedNegotiationOptions): string {
  const offer: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params: [] };
  if (options.serverNoContextTakeover) offer.params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover) offer.params.push(['client_no_context_takeover', true]);
  if (options.serverMaxWindowBits < 15) {
    offer.params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  }
  offer.params.push([
    'client_max_window_bits',
    options.clientMaxWindowBits < 15 ? String(options.clientMaxWindowBits) : true,
  ]);
  return formatExtensions([offer]);
}

/**
 * Client side: checks the server's permessage-deflate response against our offer (RFC 7692 §7.1).
 * Throws WS_ERR_HANDSHAKE_INVALID_RESPONSE for a response the offer did not allow.
 */
export function acceptAsClient(response: ExtensionOffer, options: ResolvedNegotiationOptions): DeflateParams {
  // ws's text; what was wrong with the response in detail.
  const fail = (why: string) =>
    createError('WS_ERR_HANDSHAKE_INVALID_RESPONSE', 'Invalid Sec-WebSocket-Extensions header', {
      detail: `invalid permessage-deflate response: ${why}`,
    });
  const r = parseOffer(response, true);
  if (r === null) throw fail('unknown, repeated or malformed parameter');
  if (options.serverNoContextTakeover && !r.serverNoContextTakeover) {
    throw fail('server_no_context_takeover was requested but not accepted');
  }
  if (r.serverMaxWindowBits !== null && r.serverMaxWindowBits > options.serverMaxWindowBits) {
    throw fail(`server_max_window_bits=${r.serverMaxWindowBits} is more than offered`);
  }
  if (options.serverMaxWindowBits < 15 && r.serverMaxWindowBits === null) {
    throw fail('server_max_window_bits was requested but not accepted');
  }
  const clientBits =
    typeof r.clientMaxWindowBits === 'number' ? r.clientMaxWindowBits : options.clientMaxWindowBits;
  if (clientBits > options.clientMaxWindowBits)
    throw fail(`client_max_window_bits=${clientBits} is more than offered`);
  return {
    serverNoContextTakeover: r.serverNoContextTakeover,
    clientNoContextTakeover: r.clientNoContextTakeover || options.clientNoContextTakeover,
    serverMaxWindowBits: r.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: clientBits,
  };
}

/** The response header value for accepted parameters. */
export function formatResponse(negotiation: ServerNegotiation): string {
  return formatExtensions([negotiation.response]);
}
