import { createServer, type Server, type Socket } from 'node:net';
import { EMPTY_BUFFER } from '../../protocol/constants.js';
import { headerHasToken } from '../../protocol/header-tokens.js';
import { RequestHeadParser } from '../../protocol/http-request-head.js';
import { type PolicySniffState, sniffPolicyRequest } from '../legacy/flash-policy.js';
import { acceptLeanSockets } from '../transport/lean-accept.js';
import type { LeanSocket } from '../transport/lean-socket.js';
import { kHead } from '../transport/socket-slots.js';
import { readThrough, stopReadingThrough, type TransportSink } from '../transport/transport.js';
import { abortHandshake } from './abort-handshake.js';
import { UpgradeRequest } from './upgrade-request.js';

export interface UpgradeListenerOptions {
  /** Serve connections as LeanSockets when Node's libuv bindings allow it (else net.Sockets). */
  leanSockets: boolean;
  maxHeaderSize: number;
  maxHeadersCount: number;
  /** Called for each TCP connection, before anything is read (starts the handshake timer). */
  onConnection(socket: Socket): void;
  /** A complete upgrade request: the handshake proper (checks, 101) is the caller's. */
  onUpgrade(req: UpgradeRequest, socket: Socket, head: Buffer): void;
  /** legacy.flashPolicy: the policy document that answers `<policy-file-request/>` as first bytes. */
  flashPolicy?: (() => Buffer) | undefined;
}

/** What a socket carries while its request head is being read: the parser, and who to hand it to. */
class PendingHead extends RequestHeadParser implements PolicySniffState {
  readonly options: UpgradeListenerOptions;
  /** legacy.flashPolicy: the first bytes while they may be a policy-file request (else null). */
  sniff: Buffer | null;
  constructor(options: UpgradeListenerOptions) {
    super(options);
    this.options = options;
    this.sniff = options.flashPolicy === undefined ? null : EMPTY_BUFFER;
  }
}

interface HeadSocket extends Socket {
  [kHead]?: PendingHead;
}

/**
 * The server wskit creates for the `port` option: plain TCP that reads each request head itself with
 * the core's RequestHeadParser (no HTTP parser, IncomingMessage or ServerResponse per connection) and
 * hands upgrade requests on. A request that is not an upgrade is answered 426; a malformed one 400 or
 * 431.
 */
export function createUpgradeListener(options: UpgradeListenerOptions): Server {
  const onSocket = (socket: HeadSocket) => {
    socket[kHead] = new PendingHead(options);
    readThrough(socket, HEAD_SINK);
    options.onConnection(socket);
  };
  const server = createServer(onSocket);
  if (options.leanSockets) {
    // A LeanSocket has the part of net.Socket's surface that the handshake and WebSocket use.
    const onLeanSocket = onSocket as unknown as (socket: LeanSocket) => void;
    server.once('listening', () => {
      // wskit's 'connection' listener is for net.Sockets only: with LeanSockets, 'connection' is the
      // application's (acceptLeanSockets emits it when listened to).
      if (acceptLeanSockets(server, onLeanSocket)) server.removeListener('connection', onSocket);
    });
  }
  return server;
}

function onHeadData(this: HeadSocket, chunk: Buffer): void {
  const state = this[kHead];
  if (state === undefined) return;
  // ---- legacy: a Flash policy-file request instead of a request head (legacy.flashPolicy) ----
  if (state.sniff !== null) {
    const bytes = sniffPolicyRequest(this, state, chunk, state.options.flashPolicy!);
    if (bytes === null) {
      if (!this.writable) this[kHead] = undefined;
      return;
    }
    chunk = bytes;
  }
  // ---- end legacy ----
  const result = state.push(chunk);
  if (result.state === 'incomplete') return;
  this[kHead] = undefined;
  // Further bytes (the first frames) wait in the socket until the connection reads it, as after
  // Node's http 'upgrade'.
  stopReadingThrough(this, HEAD_SINK);
  if (result.state === 'error') {
    abortHandshake(this, result.status, result.reason);
    return;
  }
  const req = new UpgradeRequest(result.head, this);
  // An upgrade request as Node's http server tells them (Upgrade present, Connection: upgrade); the
  // handshake checks then refuse a wrong Upgrade value with 400. Anything else is plain HTTP: 426.
  if (req.headers.upgrade === undefined || !headerHasToken(req.headers.connection, 'upgrade')) {
    // ws's body: the status text alone (the Upgrade header says what to speak).
    abortHandshake(this, 426, 'Upgrade Required', {
      Upgrade: 'websocket',
    });
    return;
  }
  state.options.onUpgrade(req, this, result.rest);
}

/** How a request head is read: its chunks; an error closes the socket (and its deadline goes). */
const HEAD_SINK: TransportSink = Object.freeze({
  data: onHeadData as unknown as TransportSink['data'],
  end: ignore,
  close: ignore,
  error: onHeadError as unknown as TransportSink['error'],
});

function ignore(): void {}

function onHeadError(this: HeadSocket): void {
  this[kHead] = undefined;
  this.destroy();
}
