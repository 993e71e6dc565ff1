// Fuzz target: the Sec-WebSocket-Extensions parser (parseExtensions, formatExtensions) and the
// permessage-deflate negotiation (negotiateAsServer, acceptAsClient, clientOffer). Headers are
// generated from the RFC 6455 §9.1 grammar (tokens, parameters, quoted values with escapes, OWS) and
// usually mutated. Oracles: only WS_ERR_INVALID_EXTENSION_HEADER (status 400) is thrown, exactly when
// a regular expression of the grammar refuses the header; formatting what was parsed parses back to
// the same; the server accepts only a well-formed offer, the first one; a server answer to an offer
// from clientOffer() is accepted by acceptAsClient() and both ends agree on the parameters; a random
// answer is refused with WS_ERR_HANDSHAKE_INVALID_RESPONSE or agrees with the offer;
// checkUpgradeRequest never throws.
import { performance } from 'node:perf_hooks';
import { WebSocketError } from '../../src/protocol/errors.js';
import { type ExtensionOffer, formatExtensions, parseExtensions } from '../../src/protocol/header-tokens.js';
import {
  acceptAsClient,
  clientOffer,
  type DeflateNegotiationOptions,
  formatResponse,
  negotiateAsServer,
  type ResolvedNegotiationOptions,
  resolveNegotiationOptions,
} from '../../src/protocol/permessage-deflate.js';
import { checkUpgradeRequest } from '../../src/protocol/server-handshake.js';
import type { Rng } from './prng.js';
import { elapsedNs, FuzzFailure, type FuzzTarget, type IterationResult } from './runner.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NAMES = [
  'permessage-deflate',
  'permessage-deflate',
  'permessage-deflate',
  'x-webkit-deflate-frame',
  'foo',
];
const PARAMS = [
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
  'unknown_param',
];
const BITS = ['8', '9', '10', '11', '12', '13', '14', '15', '7', '16', '015', '1', 'x'];

function token(rng: Rng): string {
  let s = '';
  const n = rng.range(1, 10);
  for (let i = 0; i < n; i++) s += TCHARS[rng.int(TCHARS.length)];
  return s;
}

function ows(rng: Rng): string {
  return rng.pick(['', '', '', ' ', '\t', '  ']);
}

function value(rng: Rng, name: string): string {
  const v = name.endsWith('bits') && rng.chance(0.8) ? rng.pick(BITS) : token(rng);
  if (rng.chance(0.02)) return rng.pick(['""', '"\\"', '"a b"', '"\\\\"']);
  if (!rng.chance(0.2)) return v;
  // Quoted, with some characters escaped.
  return `"${[...v].map((c) => (rng.chance(0.2) ? `\\${c}` : c)).join('')}"`;
}

function header(rng: Rng): string {
  const elements: string[] = [];
  const n = rng.range(1, 4);
  for (let e = 0; e < n; e++) {
    let s = ows(rng) + (rng.chance(0.85) ? rng.pick(NAMES) : token(rng)) + ows(rng);
    const params = rng.int(5);
    for (let p = 0; p < params; p++) {
      const name = rng.chance(0.9) ? rng.pick(PARAMS) : token(rng);
      s += `;${ows(rng)}${name}${ows(rng)}`;
      if (name.endsWith('bits') ? rng.chance(0.7) : rng.chance(0.1))
        s += `=${ows(rng)}${value(rng, name)}${ows(rng)}`;
    }
    elements.push(s);
  }
  return elements.join(',');
}

const INJECT = [',', ';', '=', '"', '\\', ' ', '\t', '\r', '\n', '\0', '\x7f', 'é', '(', ')', '/', ''];

function mutate(rng: Rng, text: string): string {
  const count = rng.range(1, 3);
  for (let k = 0; k < count; k++) {
    const at = rng.int(text.length + 1);
    const r = rng.int(4);
    if (r === 0) text = text.slice(0, at) + rng.pick(INJECT) + text.slice(at);
    else if (r === 1) text = text.slice(0, at) + text.slice(at + rng.range(1, 4));
    else if (r === 2) text = text.slice(0, at) + text.slice(rng.int(text.length + 1));
    else text += text.slice(at);
  }
  return text;
}

const T = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const Q = '"(?:\\\\?[!#$%&\'*+\\-.^_`|~0-9A-Za-z])+"';
const ELEMENT = `[ \\t]*${T}[ \\t]*(?:;[ \\t]*${T}[ \\t]*(?:=[ \\t]*(?:${T}|${Q})[ \\t]*)?)*`;
/** The grammar parseExtensions documents, as one regular expression. */
const GRAMMAR = new RegExp(`^${ELEMENT}(?:,${ELEMENT})*$`);

function same(a: ExtensionOffer[], b: ExtensionOffer[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function randomOptions(rng: Rng): ResolvedNegotiationOptions {
  const options: DeflateNegotiationOptions = {};
  if (rng.chance(0.5)) options.serverNoContextTakeover = rng.chance(0.5);
  if (rng.chance(0.5)) options.clientNoContextTakeover = rng.chance(0.5);
  if (rng.chance(0.5)) options.serverMaxWindowBits = rng.range(8, 15);
  if (rng.chance(0.5)) options.clientMaxWindowBits = rng.range(8, 15);
  return resolveNegotiationOptions(options);
}

/** Whether a permessage-deflate element is well formed (RFC 7692 §7.1), as a server reads an offer. */
function wellFormedOffer(offer: ExtensionOffer): boolean {
  if (offer.name !== 'permessage-deflate') return false;
  const seen = new Set<string>();
  for (const [name, v] of offer.params) {
    if (seen.has(name)) return false;
    seen.add(name);
    if (name.endsWith('_no_context_takeover')) {
      if (!PARAMS.slice(0, 2).includes(name) || v !== true) return false;
    } else if (name === 'server_max_window_bits') {
      if (v === true || !/^(9|1[0-5])$/.test(v)) return false; // 8 is declined: zlib has no 256-byte window
    } else if (name === 'client_max_window_bits') {
      if (v !== true && !/^(8|9|1[0-5])$/.test(v)) return false;
    } else return false;
  }
  return true;
}

function param(offer: ExtensionOffer, name: string): string | true | undefined {
  return offer.params.find(([n]) => n === name)?.[1];
}

function expectError(fn: () => unknown, code: string, what: string): unknown {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WebSocketError && err.code === code) return err;
    throw new FuzzFailure(
      `${what} threw ${err instanceof WebSocketError ? err.code : String(err)}, not ${code}`,
    );
  }
}

function checkHeader(text: string): { offers: ExtensionOffer[] | null; kind: string; ns: number } {
  // Only parseExtensions is timed.
  const start = performance.now();
  const result = expectError(
    () => parseExtensions(text),
    'WS_ERR_INVALID_EXTENSION_HEADER',
    'parseExtensions',
  );
  const ns = elapsedNs(start);
  const accepted = !(result instanceof WebSocketError);
  if (!accepted && result.status !== 400) throw new FuzzFailure(`status ${result.status}, not 400`);
  if (accepted !== GRAMMAR.test(text)) {
    throw new FuzzFailure(
      `parseExtensions ${accepted ? 'accepted' : 'refused'} a header the grammar ${accepted ? 'refuses' : 'accepts'}`,
    );
  }
  if (!accepted) return { offers: null, kind: 'refused', ns };
  const offers = result as ExtensionOffer[];
  const again = parseExtensions(formatExtensions(offers));
  if (!same(offers, again))
    throw new FuzzFailure(`format then parse changed the offers: ${formatExtensions(offers)}`);
  return { offers, kind: 'parsed', ns };
}

function checkNegotiation(rng: Rng, offers: ExtensionOffer[]): string {
  const serverOptions = randomOptions(rng);
  const result = negotiateAsServer(offers, serverOptions);
  const first = offers.find(wellFormedOffer);
  if ((result === null) !== (first === undefined)) {
    throw new FuzzFailure(
      `negotiateAsServer ${result === null ? 'declined every offer' : 'accepted a malformed offer'}`,
    );
  }
  if (result === null || first === undefined) return 'declined';
  const p = result.params;
  const askedServer = param(first, 'server_max_window_bits');
  const askedClient = param(first, 'client_max_window_bits');
  const problems: string[] = [];
  if (p.serverMaxWindowBits < 9 || p.serverMaxWindowBits > Math.max(9, serverOptions.serverMaxWindowBits))
    problems.push('server window out of range');
  if (typeof askedServer === 'string' && p.serverMaxWindowBits > Number(askedServer))
    problems.push('server window over the offer');
  if (askedClient === undefined && p.clientMaxWindowBits !== 15)
    problems.push('client window limited though not offered');
  if (typeof askedClient === 'string' && p.clientMaxWindowBits > Number(askedClient))
    problems.push('client window over the offer');
  if (p.clientMaxWindowBits > serverOptions.clientMaxWindowBits && askedClient !== undefined)
    problems.push('client window over the option');
  if (param(first, 'server_no_context_takeover') === true && !p.serverNoContextTakeover)
    problems.push('server_no_context_takeover dropped');
  if (problems.length > 0)
    throw new FuzzFailure(`negotiateAsServer: ${problems.join(', ')} (${formatResponse(result)})`);
  const response = parseExtensions(formatResponse(result));
  if (response.length !== 1 || response[0].name !== 'permessage-deflate')
    throw new FuzzFailure('response is not one element');
  return 'accepted';
}

/** clientOffer → negotiateAsServer → acceptAsClient: both ends agree. */
function checkRoundTrip(rng: Rng): void {
  const clientOptions = randomOptions(rng);
  const serverOptions = randomOptions(rng);
  const offers = parseExtensions(clientOffer(clientOptions));
  const server = negotiateAsServer(offers, serverOptions);
  if (server === null) {
    if (clientOptions.serverMaxWindowBits !== 8)
      throw new FuzzFailure(`the server declined ${clientOffer(clientOptions)}`);
    return;
  }
  const answer = parseExtensions(formatResponse(server))[0];
  let client: ReturnType<typeof acceptAsClient>;
  try {
    client = acceptAsClient(answer, clientOptions);
  } catch (err) {
    throw new FuzzFailure(
      `the client refused the server's answer ${formatResponse(server)} to ${clientOffer(clientOptions)}: ${err instanceof Error ? err.message : err}`,
    );
  }
  const s = server.params;
  if (
    client.serverNoContextTakeover !== s.serverNoContextTakeover ||
    client.clientNoContextTakeover !== s.clientNoContextTakeover ||
    client.clientMaxWindowBits !== s.clientMaxWindowBits ||
    s.serverMaxWindowBits > client.serverMaxWindowBits
  ) {
    throw new FuzzFailure(
      `the ends disagree: server ${JSON.stringify(s)}, client ${JSON.stringify(client)} (offer ${clientOffer(clientOptions)}, answer ${formatResponse(server)})`,
    );
  }
}

/** A random answer: refused with the documented code, or consistent with the offer. */
function checkRandomAnswer(rng: Rng, offers: ExtensionOffer[]): void {
  const options = randomOptions(rng);
  for (const answer of offers.slice(0, 2)) {
    const r = expectError(
      () => acceptAsClient(answer, options),
      'WS_ERR_HANDSHAKE_INVALID_RESPONSE',
      'acceptAsClient',
    );
    if (r instanceof WebSocketError) continue;
    const p = r as ReturnType<typeof acceptAsClient>;
    if (
      (options.serverNoContextTakeover && !p.serverNoContextTakeover) ||
      p.serverMaxWindowBits > options.serverMaxWindowBits ||
      p.clientMaxWindowBits > options.clientMaxWindowBits ||
      (options.clientNoContextTakeover && !p.clientNoContextTakeover)
    ) {
      throw new FuzzFailure(
        `acceptAsClient accepted ${formatExtensions([answer])} beyond the offer ${clientOffer(options)}: ${JSON.stringify(p)}`,
      );
    }
  }
}

export function extensionsTarget(): FuzzTarget {
  return {
    name: 'extensions',
    timed: true,
    iterate(rng: Rng): IterationResult {
      let text = header(rng);
      if (rng.chance(0.6)) text = mutate(rng, text);
      if (rng.chance(0.01)) text = `${'permessage-deflate; a=b, '.repeat(rng.range(100, 2000))}x`;
      try {
        const { offers, kind, ns } = checkHeader(text);
        let outcome = kind;
        if (offers !== null) {
          outcome = checkNegotiation(rng, offers);
          checkRandomAnswer(rng, offers);
        }
        checkRoundTrip(rng);
        try {
          checkUpgradeRequest({
            method: 'GET',
            httpVersion: '1.1',
            headers: {
              host: 'h',
              upgrade: 'websocket',
              connection: 'Upgrade',
              'sec-websocket-version': '13',
              'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
              'sec-websocket-extensions': rng.chance(0.5) ? text : [text, text],
              'sec-websocket-protocol': text,
            },
          });
        } catch (err) {
          throw new FuzzFailure(`checkUpgradeRequest threw ${err instanceof Error ? err.message : err}`);
        }
        return { bytes: text.length, ns, kind: outcome };
      } catch (err) {
        if (err instanceof FuzzFailure)
          throw new FuzzFailure(err.message, `header: ${JSON.stringify(text.slice(0, 2000))}`);
        throw err;
      }
    },
  };
}
