import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createError } from '../../protocol/errors.js';
import type { ExtensionOffer } from '../../protocol/header-tokens.js';
import { isHixie76Request } from '../../protocol/hixie76-handshake.js';
import { formatResponse, negotiateAsServer } from '../../protocol/permessage-deflate.js';
import {
  checkUpgradeRequest,
  DEFAULT_VERSIONS,
  type UpgradeCheckOptions,
  upgradeResponse,
  upgradeResponseLines,
} from '../../protocol/server-handshake.js';
import type { InflateBudget } from '../deflate/inflate-budget.js';
import type { Limiter } from '../deflate/limiter.js';
import type { ResolvedDeflate } from '../deflate/options.js';
import { handleHixie76 } from '../legacy/hixie76-upgrade.js';
import type { ResolvedLegacy } from '../legacy/legacy-options.js';
import { closeOnError, isRead, stopClosingOnError } from '../transport/transport.js';
import { abortHandshake } from './abort-handshake.js';
import type { HandshakeDeadlines } from './handshake-deadlines.js';
import { type Negotiated, negotiated } from './negotiated.js';

/** What verifyClient is told about a connection attempt (as in ws). */
export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: IncomingMessage;
}

export type VerifyClientCallback = (
  verified: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string | number>,
) => void;

/**
 * Calls verifyClient as ws does: with a callback when it takes two parameters, else for its return
 * value. A refusal goes to `refuse` (401 unless the callback names a status), acceptance to `next`.
 */
export function callVerifyClient(
  verify: NonNullable<UpgradeOptions['verifyClient']>,
  info: VerifyClientInfo,
  refuse: (code: number, message: string, headers?: Record<string, string | number>) => void,
  next: () => void,
): void {
  if (verify.length === 2) {
    (verify as (info: VerifyClientInfo, callback: VerifyClientCallback) => void)(
      info,
      (verified, code, message, headers) => {
        if (verified) next();
        else refuse(code ?? 401, message ?? '', headers);
      },
    );
    return;
  }
  if ((verify as (info: VerifyClientInfo) => boolean)(info)) next();
  else refuse(401, '');
}

/** The handshake options of a server (see ServerOptions). */
export interface UpgradeOptions {
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  verifyClient?:
    | ((info: VerifyClientInfo) => boolean)
    | ((info: VerifyClientInfo, callback: VerifyClientCallback) => void);
}

/** Called with the new connection and its request (handleUpgrade's callback). */
export type AcceptCallback<C> = (connection: C, req: IncomingMessage) => void;

/** The server an UpgradeHandler works for. */
export interface UpgradeHost<C> {
  /** Whether the request is for this server (its `path`; overridable). */
  shouldHandle(req: IncomingMessage): boolean;
  /** Why a new connection cannot be taken now (shutting down, too many), or null. */
  refusal(): string | null;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
  /** The 101 was written: open a connection on the socket. */
  accept(
    socket: Duplex,
    head: Buffer,
    negotiated: Negotiated,
    req: IncomingMessage,
    cb: AcceptCallback<C>,
  ): void;
}

/**
 * The server side of the opening handshake (RFC 6455 §4.2): checks the request, asks verifyClient,
 * chooses the subprotocol and permessage-deflate's parameters, writes the 101, and hands the socket
 * to its host. A refused request is answered with its HTTP status and a one-line reason (or reported
 * as 'wsClientError' when the host listens to it).
 */
export class UpgradeHandler<C> {
  private readonly options: UpgradeOptions;
  /** @internal */
  readonly deadlines: HandshakeDeadlines;
  private readonly deflate: ResolvedDeflate | null;
  private readonly limiter: Limiter | null;
  private readonly budget: InflateBudget | null;
  /** @internal The older protocols this server speaks (legacy option), or null. */
  readonly legacy: ResolvedLegacy | null;
  /** @internal */
  readonly host: UpgradeHost<C>;
  /** What checkUpgradeRequest is told: the versions spoken, the host's path check (made once). */
  private readonly checks: UpgradeCheckOptions;

  constructor(
    host: UpgradeHost<C>,
    options: UpgradeOptions,
    deadlines: HandshakeDeadlines,
    deflate: ResolvedDeflate | null,
    limiter: Limiter | null,
    budget: InflateBudget | null,
    legacy: ResolvedLegacy | null = null,
  ) {
    this.legacy = legacy;
    this.host = host;
    this.checks = {
      versions: legacy?.versions ?? DEFAULT_VERSIONS,
      shouldHandle: (req) => host.shouldHandle(req as IncomingMessage),
    };
    this.options = options;
    this.deadlines = deadlines;
    this.deflate = deflate;
    this.limiter = limiter;
    this.budget = budget;
  }

  /**
   * Answers 503 to every connection whose opening handshake is still pending (a closing server of its
   * own, whose net.Server close() waits for every connection).
   */
  abortPending(): void {
    this.deadlines.abortAll(503, 'Server is shutting down');
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer, cb: AcceptCallback<C>): void {
    closeOnError(socket);
    // ---- legacy: a hixie-76 request goes its own way (legacy.hixie76) ----
    if (this.legacy?.hixie76 === true && isHixie76Request(req.headers)) {
      handleHixie76(this, req, socket, head, cb);
      return;
    }
    // ---- end legacy ----
    const check = checkUpgradeRequest(req, this.checks);
    if (!check.ok) {
      // Another path: answered at once, as ws does, never reported as 'wsClientError'.
      if (check.notOurs === true) abortHandshake(socket, check.status, check.reason, check.headers);
      else this.refuse(req, socket, check.status, check.reason, check.headers, check.detail);
      return;
    }
    const refusal = this.host.refusal();
    if (refusal !== null) {
      abortHandshake(socket, 503, refusal);
      return;
    }
    this.deadlines.add(socket);
    if (this.options.verifyClient === undefined) {
      this.complete(check.key, check.protocols, check.extensions, req, socket, head, cb);
      return;
    }
    this.verify(req, socket, check.origin, () =>
      this.complete(check.key, check.protocols, check.extensions, req, socket, head, cb),
    );
  }

  /** @internal Asks verifyClient (sync or async, as in ws); a refusal is answered, else `next()`. */
  verify(req: IncomingMessage, socket: Duplex, origin: string | undefined, next: () => void): void {
    const verify = this.options.verifyClient;
    if (verify === undefined) {
      next();
      return;
    }
    const info: VerifyClientInfo = {
      origin,
      secure: Boolean((req.socket as { encrypted?: boolean } | undefined)?.encrypted),
      req,
    };
    callVerifyClient(
      verify,
      info,
      (code, message, headers) => abortHandshake(socket, code, message, headers),
      next,
    );
  }

  /**
   * @internal Whether the socket can still be upgraded now (after verifyClient): the checks before the
   * 101 is written. False when it was answered or dropped.
   */
  ready(socket: Duplex): boolean {
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return false;
    }
    if (isRead(socket)) {
      throw createError(
        'WS_ERR_INVALID_STATE',
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
        { detail: 'a socket can be upgraded once' },
      );
    }
    const refusal = this.host.refusal();
    if (refusal !== null) {
      abortHandshake(socket, 503, refusal);
      return false;
    }
    this.deadlines.delete(socket);
    return true;
  }

  /**
   * @internal The subprotocol to answer with: handleProtocols' choice (or the first offered), or
   * undefined for none; null when the choice was not one offered (answered 500).
   */
  chooseProtocol(protocols: string[], req: IncomingMessage, socket: Duplex): string | undefined | null {
    if (protocols.length === 0) return undefined;
    const chosen = this.options.handleProtocols
      ? this.options.handleProtocols(new Set(protocols), req)
      : protocols[0];
    const protocol = chosen === false ? undefined : chosen;
    // RFC 6455 §4.2.2: one of the client's values, which are tokens (so nothing can be injected
    // into the response's header block either).
    if (protocol !== undefined && !protocols.includes(protocol)) {
      abortHandshake(socket, 500, 'handleProtocols chose a subprotocol the client did not offer');
      return null;
    }
    return protocol;
  }

  private complete(
    key: string,
    protocols: string[],
    extensions: ExtensionOffer[],
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: AcceptCallback<C>,
  ): void {
    if (!this.ready(socket)) return;
    // Chosen after verifyClient, as in ws: it may have left what handleProtocols needs on req.
    const protocol = this.chooseProtocol(protocols, req, socket);
    if (protocol === null) return;
    const deflate = this.deflate === null ? null : negotiateAsServer(extensions, this.deflate.negotiation);
    const response = { key, protocol, extensions: deflate === null ? undefined : formatResponse(deflate) };
    if (this.host.listenerCount('headers') > 0) {
      const lines = upgradeResponseLines(response);
      this.host.emit('headers', lines, req);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    } else {
      socket.write(upgradeResponse(response), 'latin1');
    }
    stopClosingOnError(socket);
    const shared = () => ({ limiter: this.limiter!, budget: this.budget! });
    this.host.accept(
      socket,
      head,
      negotiated(protocol, deflate?.params ?? null, this.deflate, shared),
      req,
      cb,
    );
  }

  /**
   * @internal Answers a refused request with `reason` as the body (or reports it as 'wsClientError'
   * when listened to: an error with `reason` as its message, and `detail`).
   */
  refuse(
    req: IncomingMessage,
    socket: Duplex,
    status: number,
    reason: string,
    headers?: Record<string, string>,
    detail?: string,
  ): void {
    if (this.host.listenerCount('wsClientError') > 0) {
      const err = createError(
        'WS_ERR_HANDSHAKE_INVALID_REQUEST',
        reason,
        detail === undefined ? { status } : { status, detail },
      );
      this.host.emit('wsClientError', err, socket, req);
      return;
    }
    abortHandshake(socket, status, reason, headers);
  }
}
