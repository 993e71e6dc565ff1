import { argumentError } from '../../protocol/errors.js';
import {
  checkFlashPolicyOptions,
  type FlashPolicyOptions,
  flashPolicyDocument,
} from '../../protocol/flash-policy.js';
import { DEFAULT_VERSIONS } from '../../protocol/server-handshake.js';

/**
 * The older protocols a server may speak besides RFC 6455, each off by default (docs/legacy-protocols.md
 * says what each exposes).
 */
export interface LegacyOptions {
  /**
   * draft-hixie-thewebsocketprotocol-76 (Key1/Key2 and the MD5 challenge; 0x00...0xFF text frames):
   * text messages and close only, no masking. Default false.
   */
  hixie76?: boolean;
  /**
   * Sec-WebSocket-Version 7 and 8 (draft-ietf-hybi-thewebsocketprotocol-07/08: RFC 6455's framing,
   * the origin in Sec-WebSocket-Origin). Unset (the default), a server accepts 13 and 8, as ws does;
   * true adds 7; false accepts 13 only.
   */
  hybi08?: boolean;
  /**
   * Answer Flash's `<policy-file-request/>` sent as the first bytes of a connection to this server's
   * port with a cross-domain policy: true (any domain, this port) or { domains, ports }. Default false.
   */
  flashPolicy?: boolean | FlashPolicyOptions;
}

const HYBI_07_08: readonly number[] = Object.freeze([13, 8, 7]);
const RFC_6455_ONLY: readonly number[] = Object.freeze([13]);

/** The legacy options of a server, checked. */
export class ResolvedLegacy {
  readonly hixie76: boolean;
  /** The Sec-WebSocket-Version values accepted. */
  readonly versions: readonly number[];
  private readonly policy: FlashPolicyOptions | null;
  private document: Buffer | null = null;

  constructor(options: LegacyOptions) {
    this.hixie76 = options.hixie76 === true;
    this.versions =
      options.hybi08 === true ? HYBI_07_08 : options.hybi08 === false ? RFC_6455_ONLY : DEFAULT_VERSIONS;
    const flash = options.flashPolicy;
    this.policy = flash === undefined || flash === false ? null : flash === true ? {} : flash;
  }

  get flashPolicy(): boolean {
    return this.policy !== null;
  }

  /** The policy document (with its NUL), for a server listening on `port`; made once. */
  policyDocument(port: number | undefined): Buffer {
    if (this.document === null) this.document = flashPolicyDocument(this.policy ?? {}, port);
    return this.document;
  }
}

/**
 * Checks and resolves a server's `legacy` option: null when absent or with every protocol off, so
 * that a server without legacy protocols carries no trace of them.
 */
export function resolveLegacy(options: unknown): ResolvedLegacy | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) {
    throw argumentError('Option legacy must be an object: { hixie76, hybi08, flashPolicy }');
  }
  const o = options as Record<string, unknown>;
  for (const name of ['hixie76', 'hybi08'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') {
      throw argumentError(`Option legacy.${name} must be true or false`);
    }
  }
  if (o.flashPolicy !== false) checkFlashPolicyOptions(o.flashPolicy);
  const resolved = new ResolvedLegacy(o as LegacyOptions);
  if (!resolved.hixie76 && resolved.versions === DEFAULT_VERSIONS && !resolved.flashPolicy) return null;
  return resolved;
}
