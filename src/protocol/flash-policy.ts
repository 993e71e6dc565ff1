import { Buffer } from 'node:buffer';
import { argumentError } from './errors.js';

/**
 * Adobe Flash's socket policy file: before a Flash (or Silverlight-era) socket connects to a port, the
 * player asks the host for `<policy-file-request/>` followed by a NUL byte, on port 843 or the port
 * itself, and reads a cross-domain-policy XML document, ended by a NUL, that says which pages' movies
 * may connect to which ports. web-socket-js, the Flash WebSocket of old browsers, needs it.
 */

/** The request, NUL included: 23 bytes. */
export const POLICY_FILE_REQUEST: Buffer = Buffer.from('<policy-file-request/>\0', 'latin1');

/**
 * Whether the first bytes of a connection are the policy-file request: 'request' (all 23 bytes),
 * 'partial' (a prefix of it: read more), or 'other' (anything else: an HTTP request, say).
 */
export function matchPolicyRequest(bytes: Uint8Array): 'request' | 'partial' | 'other' {
  const n = Math.min(bytes.length, POLICY_FILE_REQUEST.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== POLICY_FILE_REQUEST[i]) return 'other';
  return n === POLICY_FILE_REQUEST.length ? 'request' : 'partial';
}

export interface FlashPolicyOptions {
  /**
   * The domains whose Flash movies may connect (`allow-access-from domain`): host names, `*.example.com`
   * wildcards, or `'*'` for any. Default ['*'].
   */
  domains?: string[];
  /**
   * The ports they may connect to (`to-ports`): numbers, ranges ('8000-8100') or '*'. Default: the
   * port the server listens on (a dedicated policy server: '*' is never assumed, ports must be given).
   */
  ports?: Array<number | string>;
}

const DOMAIN =
  /^(\*|(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/;
const PORT = /^(\*|\d{1,5}(-\d{1,5})?)$/;

/** Checks the options (WS_ERR_INVALID_ARGUMENT naming what is wrong): nothing is put in the XML unchecked. */
export function checkFlashPolicyOptions(options: unknown, name = 'legacy.flashPolicy'): void {
  if (options === true || options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw argumentError(`Option ${name} must be true or { domains, ports }`);
  }
  const { domains, ports } = options as FlashPolicyOptions;
  if (domains !== undefined) {
    if (!Array.isArray(domains) || domains.length === 0) {
      throw argumentError(`Option ${name}.domains must be a non-empty array of domain names`);
    }
    for (const d of domains) {
      if (typeof d !== 'string' || !DOMAIN.test(d)) {
        throw argumentError(
          `Option ${name}.domains: ${JSON.stringify(d)} is not a domain name, a *.domain wildcard or '*'`,
        );
      }
    }
  }
  if (ports !== undefined) {
    if (!Array.isArray(ports) || ports.length === 0) {
      throw argumentError(`Option ${name}.ports must be a non-empty array of ports`);
    }
    for (const p of ports) {
      const ok =
        (typeof p === 'number' && Number.isInteger(p) && p > 0 && p <= 65535) ||
        (typeof p === 'string' && PORT.test(p));
      if (!ok)
        throw argumentError(`Option ${name}.ports: ${JSON.stringify(p)} is not a port, a range or '*'`);
    }
  }
}

/**
 * The policy document for these domains and ports, followed by the NUL that ends it. `ports` falls
 * back to `defaultPort` when not given; with neither, the document allows nothing. Throws
 * WS_ERR_INVALID_ARGUMENT for options checkFlashPolicyOptions refuses.
 */
export function flashPolicyDocument(options: FlashPolicyOptions, defaultPort?: number): Buffer {
  checkFlashPolicyOptions(options);
  const domains = options.domains ?? ['*'];
  // No port known (a server on a unix socket) and none given: a policy that grants nothing.
  const ports = options.ports ?? (defaultPort === undefined ? [] : [defaultPort]);
  const toPorts = ports.join(',');
  const lines = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">',
    '<cross-domain-policy>',
    '<site-control permitted-cross-domain-policies="master-only"/>',
    ...(ports.length === 0
      ? []
      : domains.map((d) => `<allow-access-from domain="${d}" to-ports="${toPorts}"/>`)),
    '</cross-domain-policy>',
  ];
  return Buffer.from(`${lines.join('\n')}\n\0`, 'latin1');
}
