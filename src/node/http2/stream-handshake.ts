import type { IncomingMessage } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { EMPTY_BUFFER } from '../../protocol/constants.js';
import { createError } from '../../protocol/errors.js';
import {
  checkExtendedConnect,
  extendedConnectResponse,
  type Http2Headers,
} from '../../protocol/extended-connect.js';
import type { ExtensionOffer } from '../../protocol/header-tokens.js';
import { formatResponse, negotiateAsServer } from '../../protocol/permessage-deflate.js';
import type { InflateBudget } from '../deflate/inflate-budget.js';
import type { Limiter } from '../deflate/limiter.js';
import type { ResolvedDeflate } from '../deflate/options.js';
import { negotiated } from '../handshake/negotiated.js';
import {
  type AcceptCallback,
  callVerifyClient,
  type UpgradeHost,
  type UpgradeOptions,
  type VerifyClientInfo,
} from '../handshake/upgrade-handler.js';
import { closeOnError, isRead, stopClosingOnError } from '../transport/transport.js';
import { refuseStream } from './refuse-stream.js';
import { Http2UpgradeRequest } from './stream-request.js';

/**
 * The server side of the opening handshake of a WebSocket over HTTP/2 (RFC 8441 §5): checks the
 * extended CONNECT, asks verifyClient, chooses the subprotocol and permessage-deflate's parameters,
 * answers `:status 200`, and hands the stream to its host, which opens a connection on it as on a
 * socket. The same options and host as UpgradeHandler (HTTP/1.1), so the limits are the same; a
 * refused request gets its status and a one-line reason on the stream, which then ends.
 */
export class StreamHandshake<C> {
  private readonly host: UpgradeHost<C>;
  private readonly options: UpgradeOptions;
  private readonly handshakeTimeout: number;
  private readonly deflate: ResolvedDeflate | null;
  private readonly limiter: Limiter | null;
  private readonly budget: InflateBudget | null;

  constructor(
    host: UpgradeHost<C>,
    options: UpgradeOptions,
    handshakeTimeout: number,
    deflate: ResolvedDeflate | null,
    limiter: Limiter | null,
    budget: InflateBudget | null,
  ) {
    this.host = host;
    this.options = options;
    this.handshakeTimeout = handshakeTimeout;
    this.deflate = deflate;
    this.limiter = limiter;
    this.budget = budget;
  }

  handle(
    stream: ServerHttp2Stream,
    headers: Http2Headers,
    rawHeaders: string[],
    cb: AcceptCallback<C>,
  ): void {
    closeOnError(stream);
    const req = new Http2UpgradeRequest(stream, headers, rawHeaders);
    const asMessage = req as unknown as IncomingMessage;
    const check = checkExtendedConnect(headers);
    if (!check.ok) {
      this.refuse(asMessage, stream, check.status, check.reason, check.headers);
      return;
    }
    if (!this.host.shouldHandle(asMessage)) {
      // Another path: not a client error (no 'wsClientError'), as over HTTP/1.1.
      refuseStream(stream, 400, 'Invalid URL path for this WebSocket server');
      return;
    }
    const refusal = this.host.refusal();
    if (refusal !== null) {
      refuseStream(stream, 503, refusal);
      return;
    }
    const verify = this.options.verifyClient;
    const complete = () => this.complete(check.protocols, check.extensions, asMessage, stream, cb);
    if (verify === undefined) {
      complete();
      return;
    }
    const info: VerifyClientInfo = {
      origin: check.origin,
      secure: Boolean(stream.session?.encrypted),
      req: asMessage,
    };
    // The only wait of this handshake (an asynchronous verifyClient): bounded by handshakeTimeout,
    // as an HTTP/1.1 one is.
    const timer =
      verify.length === 2 && this.handshakeTimeout > 0
        ? setTimeout(() => refuseStream(stream, 408, 'Opening handshake timed out'), this.handshakeTimeout)
        : null;
    timer?.unref();
    const settle = () => {
      if (timer !== null) clearTimeout(timer);
    };
    callVerifyClient(
      verify,
      info,
      (code, message, headers) => {
        settle();
        refuseStream(stream, code, message, headers);
      },
      () => {
        settle();
        complete();
      },
    );
  }

  private complete(
    protocols: string[],
    extensions: ExtensionOffer[],
    req: IncomingMessage,
    stream: ServerHttp2Stream,
    cb: AcceptCallback<C>,
  ): void {
    if (stream.destroyed || stream.closed || stream.headersSent || !stream.writable) {
      stream.destroy();
      return;
    }
    if (isRead(stream)) return;
    const refusal = this.host.refusal();
    if (refusal !== null) {
      refuseStream(stream, 503, refusal);
      return;
    }
    let protocol: string | undefined;
    if (protocols.length > 0) {
      const chosen = this.options.handleProtocols
        ? this.options.handleProtocols(new Set(protocols), req)
        : protocols[0];
      protocol = chosen === false ? undefined : chosen;
      if (protocol !== undefined && !protocols.includes(protocol)) {
        refuseStream(stream, 500, 'handleProtocols chose a subprotocol the client did not offer');
        return;
      }
    }
    const deflate = this.deflate === null ? null : negotiateAsServer(extensions, this.deflate.negotiation);
    const response = extendedConnectResponse({
      protocol,
      extensions: deflate === null ? undefined : formatResponse(deflate),
    });
    if (this.host.listenerCount('headers') > 0) {
      // ws's 'headers' event: the response as header lines, which listeners may add to.
      const lines = ['HTTP/2 200'];
      for (const [name, value] of Object.entries(response)) {
        if (!name.startsWith(':')) lines.push(`${name}: ${value}`);
      }
      this.host.emit('headers', lines, req);
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        if (!(name in response)) response[name] = line.slice(colon + 1).trim();
      }
    }
    try {
      stream.respond(response);
    } catch {
      // A header Node refuses in HTTP/2 (a listener of 'headers' added Connection: ...): fail plainly.
      stream.destroy();
      return;
    }
    stopClosingOnError(stream);
    const shared = () => ({ limiter: this.limiter!, budget: this.budget! });
    this.host.accept(
      stream,
      EMPTY_BUFFER,
      negotiated(protocol, deflate?.params ?? null, this.deflate, shared),
      req,
      cb,
    );
  }

  private refuse(
    req: IncomingMessage,
    stream: ServerHttp2Stream,
    status: number,
    reason: string,
    headers?: Record<string, string>,
  ): void {
    if (this.host.listenerCount('wsClientError') > 0) {
      const err = createError('WS_ERR_HANDSHAKE_INVALID_REQUEST', reason, { status });
      this.host.emit('wsClientError', err, stream, req);
      return;
    }
    refuseStream(stream, status, reason, headers);
  }
}
