import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import process from 'node:process';
import type { Duplex } from 'node:stream';
import { FlushBatch } from '../node/connection/flush-batch.js';
import { Heartbeat } from '../node/connection/heartbeat.js';
import {
  type ConnectionOptions,
  checkConnectionOptions,
  DEFAULT_CLOSE_TIMEOUT,
  resolveHeartbeat,
} from '../node/connection/options.js';
import type { ConnectionOwner } from '../node/connection/owner.js';
import type { SendData } from '../node/connection/send-data.js';
import { WebSocket } from '../node/connection/websocket.js';
import type { PerMessageDeflateOptions } from '../node/deflate/codec.js';
import { DEFAULT_INFLATE_BUDGET, InflateBudget } from '../node/deflate/inflate-budget.js';
import { Limiter } from '../node/deflate/limiter.js';
import { type ResolvedDeflate, resolveDeflate } from '../node/deflate/options.js';
import { HandshakeDeadlines } from '../node/handshake/handshake-deadlines.js';
import type { Negotiated } from '../node/handshake/negotiated.js';
import {
  UpgradeHandler,
  type UpgradeOptions,
  type VerifyClientCallback,
  type VerifyClientInfo,
} from '../node/handshake/upgrade-handler.js';
import { createUpgradeListener } from '../node/handshake/upgrade-listener.js';
import { type AnyHttp2Server, attachHttp2, isHttp2Server } from '../node/http2/attach.js';
import { StreamHandshake } from '../node/http2/stream-handshake.js';
import type { Http2UpgradeRequest } from '../node/http2/stream-request.js';
import { answerFlashPolicyOn } from '../node/legacy/flash-policy.js';
import { type LegacyOptions, resolveLegacy } from '../node/legacy/legacy-options.js';
import { nonNegative } from '../node/options-check.js';
import { argumentError, createError, type WebSocketError } from '../protocol/errors.js';
import type { Http2Headers } from '../protocol/extended-connect.js';
import { type DurableTopics, withTopicsProtocol } from '../pubsub/durable/durable-topics.js';
import { type PublishOptions, Topics, type TopicsOptions } from '../pubsub/topics.js';
import { listenOn } from './listen-on.js';
import { checkServerOptions, ONE_MODE } from './server-options.js';
import { closeSessions, createTlsServer, type ServerTlsOptions } from './tls-server.js';

export type { VerifyClientCallback, VerifyClientInfo };

export interface ServerOptions extends ConnectionOptions, TopicsOptions, UpgradeOptions {
  /** Port to listen on (creates an HTTP server). */
  port?: number;
  /**
   * A unix socket path to listen on instead of a port (creates a server, as `port` does; the
   * socket file is removed when the server closes). Clients reach it as
   * ws+unix:/path/to/socket:/request/path. See docs/client-networking.md.
   */
  socketPath?: string;
  /** Host to listen on. */
  host?: string;
  /** listen() backlog. */
  backlog?: number;
  /**
   * An existing server to attach to: http, https, or node:http2 (cleartext or secure), whose
   * extended CONNECT streams (RFC 8441) become WebSockets: see docs/http2.md.
   */
  server?: HttpServer | HttpsServer | AnyHttp2Server;
  /** Create no HTTP server: call handleUpgrade() yourself. */
  noServer?: boolean;
  /** Accept only upgrade requests for this path. */
  path?: string;
  /** Keep the set of connected clients in `clients`. Default true. */
  clientTracking?: boolean;
  /**
   * permessage-deflate (RFC 7692): true, or options. Default false, as in ws. By default the server
   * answers with server_no_context_takeover and client_no_context_takeover, so connections keep no
   * zlib state: see docs/permessage-deflate.md.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Bytes of received messages that all of this server's connections hold while they inflate on
   * the thread pool (permessage-deflate); past it, inflation waits and the connections that wait read
   * nothing. Memory under compression bombs is then at most this plus one maxPayload. Default 64 MiB
   * (0 = no limit).
   */
  inflateBudget?: number;
  /** The class of the connection objects (a subclass of WebSocket). */
  WebSocket?: typeof WebSocket;
  /**
   * Milliseconds a client may take to complete the opening handshake, from its TCP connection (on an
   * attached http.Server too, until its first request head is in); then 408. Default 10,000.
   */
  handshakeTimeout?: number;
  /** Most connections at once; further upgrade requests get 503. Default 50,000 (0 = no limit). */
  maxConnections?: number;
  /**
   * Most connections whose opening handshake is not done yet (for the server wskit creates, and for
   * an http.Server it is attached to: its connections until their first request head is in); a
   * connection over it is closed at once. Default 1,000 (0 = no limit).
   */
  maxPendingHandshakes?: number;
  /** Largest request header block, in bytes, for the server wskit creates. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Most request headers accepted, for the server wskit creates. Default 100. */
  maxHeadersCount?: number;
  /**
   * For the server wskit creates (`port`): drive each connection through Node's libuv TCP handle as
   * a LeanSocket instead of a net.Socket, which halves the memory of an idle connection and the CPU
   * of a handshake. Default true; wskit falls back to net.Socket by itself when Node's bindings are
   * not as expected. Set false when handlers need a real net.Socket (`req.socket`, `ws._socket`),
   * for example to pipe it. See docs/performance.md.
   */
  leanSockets?: boolean;
  // ---- legacy protocols (docs/legacy-protocols.md) ----
  /**
   * Older protocols, each off by default: `{ hixie76, hybi08, flashPolicy }` (hixie-76's handshake
   * and framing, Sec-WebSocket-Version 7 and 8, Flash's policy file on this port). See
   * docs/legacy-protocols.md for what each exposes.
   */
  legacy?: LegacyOptions;
  // ---- end legacy ----
  // ---- TLS and HTTP/2 (docs/tls.md, docs/http2.md) ----
  /**
   * With `port`: serve wss:// — TLS options as tls.createServer takes them (`cert`, `key`, `ca`,
   * `pfx`, `passphrase`...). Default: none (ws://).
   */
  tls?: ServerTlsOptions;
  /**
   * With `port`: also accept WebSockets over HTTP/2 (RFC 8441). With `tls`, one port speaks HTTP/2
   * and HTTP/1.1 (ALPN h2 and http/1.1); without it, cleartext HTTP/2 only (h2c, prior knowledge).
   * Default false.
   */
  http2?: boolean;
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 50_000;
export const DEFAULT_MAX_PENDING_HANDSHAKES = 1_000;

/**
 * A WebSocket server with the API of ws's WebSocketServer, plus heartbeat, limits and a graceful
 * close(): every client gets a 1001 Close and has `closeTimeout` ms to finish its closing handshake.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface only adds typed overloads of EventEmitter's on/once
export class WebSocketServer extends EventEmitter implements ConnectionOwner {
  readonly options: ServerOptions;
  /** The connected clients; undefined when clientTracking is false, as in ws. */
  readonly clients: Set<WebSocket>;
  private readonly connections = new Set<WebSocket>();
  /** @internal The output its connections get outside their own receive, written once per tick each. */
  readonly flushBatch = new FlushBatch();
  private readonly ownServer: NetServer | null;
  private readonly httpServer: HttpServer | HttpsServer | null;
  private readonly heartbeat: Heartbeat | null;
  private readonly upgrades: UpgradeHandler<WebSocket>;
  private readonly streams: StreamHandshake<WebSocket>;
  private readonly detach: (() => void) | null;
  /** @internal */
  readonly topics: Topics;
  private state = RUNNING;

  constructor(options: ServerOptions, callback?: () => void) {
    super();
    checkServerOptions(options, WebSocket);
    const modes = [
      options.port !== undefined || options.socketPath !== undefined,
      options.server !== undefined,
      options.noServer === true,
    ].filter(Boolean);
    if (modes.length !== 1) {
      throw argumentError(
        ONE_MODE,
        'TypeError',
        `exactly one of the "port" (or "socketPath"), "server" and "noServer" options must be given; ${
          modes.length === 0 ? 'none was' : `${modes.length} were`
        }`,
      );
    }
    checkConnectionOptions(options);
    nonNegative('handshakeTimeout', options.handshakeTimeout);
    nonNegative('maxConnections', options.maxConnections);
    nonNegative('maxPendingHandshakes', options.maxPendingHandshakes);
    nonNegative('inflateBudget', options.inflateBudget);
    this.options = { clientTracking: true, ...options };
    this.clients = this.options.clientTracking ? this.connections : (undefined as unknown as Set<WebSocket>);
    const hb = resolveHeartbeat(options.heartbeat, true);
    this.heartbeat = hb === null ? null : new Heartbeat(hb.interval, hb.timeout);
    const deflate: ResolvedDeflate | null = resolveDeflate(options.perMessageDeflate, false, 'server');
    // Bounds the zlib jobs of all this server's connections on the thread pool.
    const limiter = deflate === null ? null : new Limiter(deflate.concurrencyLimit);
    this.topics = new Topics(this, options);
    // Durable topics: wskit.topics.v1 is chosen when a client offers it.
    if (this.topics.durable !== null) {
      this.options.handleProtocols = withTopicsProtocol(options.handleProtocols);
    }
    const deadlines = new HandshakeDeadlines(
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES,
    );
    // A connection over maxPendingHandshakes is closed at once (nothing is read from it).
    const admit = (socket: Duplex) => {
      if (!deadlines.admit(socket)) socket.destroy();
    };
    const budget =
      deflate === null ? null : new InflateBudget(options.inflateBudget ?? DEFAULT_INFLATE_BUDGET);
    const legacy = resolveLegacy(options.legacy);
    this.upgrades = new UpgradeHandler(this, this.options, deadlines, deflate, limiter, budget, legacy);
    this.streams = new StreamHandshake(
      this,
      this.options,
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      deflate,
      limiter,
      budget,
    );
    // One callback for every upgrade of the server's own (port) or given (server) HTTP server.
    const emitConnection = (ws: WebSocket, req: IncomingMessage) => this.emit('connection', ws, req);

    if (options.port !== undefined && (options.tls !== undefined || options.http2 === true)) {
      // wss:// and HTTP/2: a server of Node's, created here and attached to below like a given one.
      const server = createTlsServer(
        options.tls,
        options.http2 === true,
        options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      );
      this.ownServer = server;
      this.httpServer = server as unknown as HttpServer;
      server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.port !== undefined || options.socketPath !== undefined) {
      // Every connection to a server of our own is a WebSocket to be: the handshake timer starts
      // with the TCP connection, so that a client sending half a request (or nothing) is dropped.
      const server = createUpgradeListener({
        leanSockets: options.leanSockets ?? true,
        maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
        maxHeadersCount: options.maxHeadersCount ?? 100,
        onConnection: admit,
        onUpgrade: (req, socket, head) => {
          this.handleUpgrade(req as unknown as IncomingMessage, socket, head, emitConnection);
        },
        flashPolicy: legacy?.flashPolicy ? () => legacy.policyDocument(this.boundPort()) : undefined,
      });
      server.on('listening', () => this.emit('listening'));
      server.on('error', (err: Error) => this.emit('error', err));
      this.ownServer = server;
      this.httpServer = null;
      listenOn(server, options, callback);
    } else {
      this.ownServer = null;
      // An http2 server has the events used here (listening, error, upgrade, connection, request).
      this.httpServer = (options.server ?? null) as HttpServer | null;
    }
    if (this.httpServer !== null) {
      const server = this.httpServer;
      const onListening = () => this.emit('listening');
      const onError = (err: Error) => this.emit('error', err);
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.handleUpgrade(req, socket, head, emitConnection);
      };
      // The same clock and cap as a server of our own, until a socket's first request head is in:
      // a plain HTTP request is then the application's, an upgrade goes on with the handshake. (An
      // https.Server's sockets are counted from the end of their TLS handshake.)
      const connectionEvent = 'setSecureContext' in server ? 'secureConnection' : 'connection';
      const onRequest = (req: IncomingMessage) => deadlines.delete(req.socket);
      // ---- HTTP/2 (RFC 8441): a session is no handshake to time; its streams are handled below ----
      const http2 = isHttp2Server(server);
      const h2c = http2 && connectionEvent === 'connection';
      const onConnection = http2
        ? (socket: Duplex) => {
            if (!h2c && (socket as { alpnProtocol?: unknown }).alpnProtocol !== 'h2') admit(socket);
          }
        : admit;
      const detachHttp2 = http2
        ? attachHttp2(server, (stream, headers, rawHeaders) =>
            this.streams.handle(stream, headers, rawHeaders, emitConnection),
          )
        : null;
      // ---- end HTTP/2 ----
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      server.on(connectionEvent, onConnection);
      server.on('request', onRequest);
      const detachPolicy = legacy?.flashPolicy
        ? answerFlashPolicyOn(server, () => legacy.policyDocument(this.boundPort()))
        : null;
      this.detach = () => {
        detachPolicy?.();
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
        server.removeListener(connectionEvent, onConnection);
        server.removeListener('request', onRequest);
        detachHttp2?.();
      };
    } else {
      this.detach = null;
    }
  }

  /** The bound address of the server wskit created or was given (null with noServer). */
  address(): AddressInfo | string | null {
    if (this.options.noServer) {
      throw createError('WS_ERR_INVALID_STATE', 'The server is operating in "noServer" mode', {
        detail: 'it has no address',
      });
    }
    return (this.ownServer ?? this.httpServer)?.address() ?? null;
  }

  /** The port listened on (the Flash policy's default to-ports), if known. */
  private boundPort(): number | undefined {
    const address = (this.ownServer ?? this.httpServer)?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  /** Whether a request is for this server (checks `path`). Override to route by other means. */
  shouldHandle(req: IncomingMessage): boolean {
    if (this.options.path !== undefined) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const pathname = q === -1 ? url : url.slice(0, q);
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Performs the opening handshake on an upgrade request; `cb` gets the WebSocket. A refused request
   * is answered with its HTTP status and a one-line reason (or reported by 'wsClientError' if listened to).
   */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    if (typeof req !== 'object' || req === null || typeof req.headers !== 'object' || req.headers === null) {
      throw argumentError(
        'handleUpgrade(req, socket, head, cb): req must be an http.IncomingMessage (with headers)',
      );
    }
    if (typeof socket !== 'object' || socket === null || typeof socket.write !== 'function') {
      throw argumentError(
        'handleUpgrade(req, socket, head, cb): socket must be the stream.Duplex of the upgrade',
      );
    }
    if (!Buffer.isBuffer(head)) {
      throw argumentError(
        'handleUpgrade(req, socket, head, cb): head must be a Buffer (the bytes after the request head)',
      );
    }
    if (typeof cb !== 'function')
      throw argumentError('handleUpgrade(req, socket, head, cb): cb must be a function');
    this.upgrades.handle(req, socket, head, cb);
  }

  /**
   * handleUpgrade's HTTP/2 counterpart (RFC 8441): performs the opening handshake on an extended
   * CONNECT stream of a node:http2 server (`:method CONNECT`, `:protocol websocket`), with the same
   * checks, verifyClient, handleProtocols and limits; `cb` gets the WebSocket and the request (an
   * Http2UpgradeRequest). For servers made with `noServer`; `server` and `port` servers call it by
   * themselves. A refused request gets its status on the stream.
   */
  handleStream(
    stream: import('node:http2').ServerHttp2Stream,
    headers: import('node:http2').IncomingHttpHeaders,
    cb: (ws: WebSocket, req: Http2UpgradeRequest) => void,
  ): void {
    if (typeof stream !== 'object' || stream === null || typeof stream.respond !== 'function') {
      throw argumentError('handleStream(stream, headers, cb): stream must be a ServerHttp2Stream');
    }
    if (typeof headers !== 'object' || headers === null) {
      throw argumentError("handleStream(stream, headers, cb): headers must be the stream's request headers");
    }
    if (typeof cb !== 'function')
      throw argumentError('handleStream(stream, headers, cb): cb must be a function');
    this.streams.handle(
      stream,
      headers as Http2Headers,
      [],
      cb as unknown as (ws: WebSocket, req: IncomingMessage) => void,
    );
  }

  /**
   * Sends a message to every connection subscribed to `topic`, on this server and, through the
   * broker, on every server sharing it. The message is framed (and compressed, for connections with
   * the same permessage-deflate settings) once. Subscribers over `maxBackpressure` are skipped (or
   * closed). Returns how many of this server's connections it was queued for; broker failures are
   * reported as 'brokerError' events.
   */
  publish(topic: string, data: SendData, options?: PublishOptions): number {
    return this.topics.publish(topic, data, options);
  }

  /** Sends a message to every connection, of this server and of every server sharing the broker. */
  broadcast(data: SendData, options?: PublishOptions): number {
    return this.topics.broadcast(data, options);
  }

  /** How many of this server's connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.topics.count(topic);
  }

  /**
   * Durable topics (the `durable` option): `publish()` with the offset returned, `read()` a topic's
   * history, `presence()`; null without the option. See docs/pubsub.md#durable-topics.
   */
  get durable(): DurableTopics | null {
    return this.topics.durable;
  }

  /** Published messages dropped for subscribers over maxBackpressure, since the server started. */
  get droppedMessages(): number {
    return this.topics.dropped;
  }

  /**
   * Stops accepting connections, sends every client a 1001 Close, waits for their closing handshakes
   * (up to closeTimeout, then terminates the rest), closes the HTTP server wskit created, then emits 'close'.
   */
  close(cb?: (err?: Error) => void): void {
    if (this.state === CLOSED) {
      // As ws: 'close' is emitted again, and the callback learns that the server was not running.
      if (cb) {
        this.once('close', () => cb(createError('WS_ERR_SERVER_CLOSED', 'The server is not running')));
      }
      process.nextTick(emitServerClose, this);
      return;
    }
    if (cb) this.once('close', () => cb());
    if (this.state !== RUNNING) return;
    this.state = CLOSING;
    this.detach?.();
    this.heartbeat?.stop();
    const pending = [...this.connections];
    let left = pending.length + 1;
    const done = () => {
      if (--left > 0) return;
      this.state = CLOSED;
      // Leave the broker last: the 1001 closes above may still have unsubscribed topics through it.
      // 'close' (and the close() callbacks) from the next tick, out of the promise chain, as ws
      // emits it: what a listener throws is thrown, not an unhandled rejection.
      this.topics.close().then(
        () => process.nextTick(emitServerClose, this),
        (err: Error) =>
          process.nextTick(() => {
            this.emit('brokerError', err);
            this.emit('close');
          }),
      );
    };
    for (const ws of pending) {
      if (ws.readyState === ws.CLOSED) {
        done();
        continue;
      }
      ws.once('close', done);
      if (ws.readyState === ws.OPEN) ws.close(1001, 'Server shutting down');
    }
    const timeout = this.options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (pending.length > 0) {
      setTimeout(() => {
        for (const ws of pending) ws.terminate();
      }, timeout).unref();
    }
    if (this.ownServer !== null) {
      // Its close() waits for every connection: those still in their opening handshake get 503.
      this.ownServer.close(() => done());
      this.upgrades.abortPending();
      closeSessions(this.ownServer); // HTTP/2: sessions end once their WebSockets have
    } else {
      process.nextTick(done);
    }
  }

  // ---- UpgradeHost, ConnectionOwner ----

  /** @internal */
  refusal(): string | null {
    if (this.state !== RUNNING) return 'The server is shutting down';
    const max = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (max > 0 && this.connections.size >= max) return 'Too many connections';
    return null;
  }

  /** @internal The 101 was written: the connection opens. */
  accept(
    socket: Duplex,
    head: Buffer,
    negotiated: Negotiated,
    req: IncomingMessage,
    cb: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    const Ctor = this.options.WebSocket ?? WebSocket;
    const ws = new Ctor(null, undefined, this.options);
    ws.open(socket, head, negotiated, this);
    this.connections.add(ws);
    // A framing of its own (hixie-76) has no ping to keep a heartbeat with.
    if (negotiated.framing === undefined) this.heartbeat?.add(ws);
    this.topics.durable?.accept(ws, req);
    cb(ws, req);
  }

  /** @internal Every connection, for broadcast(), tracked or not. */
  get connectionsForTopics(): Set<WebSocket> {
    return this.connections;
  }

  /** @internal */
  get subscriptions(): Topics {
    return this.topics;
  }

  /** @internal A connection closed. */
  release(connection: object): void {
    this.topics.remove(connection as WebSocket);
    this.connections.delete(connection as WebSocket);
  }
}

/** The events of a WebSocketServer and their arguments (ws's, and wskit's 'brokerError'). */
export interface WebSocketServerEvents {
  connection: [socket: WebSocket, request: IncomingMessage];
  headers: [headers: string[], request: IncomingMessage];
  listening: [];
  close: [];
  error: [error: Error];
  wsClientError: [error: WebSocketError, socket: Duplex, request: IncomingMessage];
  /** The broker could not do something (Redis unreachable...); local delivery is not affected. */
  brokerError: [error: Error];
}

type ServerListener<E extends keyof WebSocketServerEvents> = (
  this: WebSocketServer,
  ...args: WebSocketServerEvents[E]
) => void;
// biome-ignore lint/suspicious/noExplicitAny: the catch-all overload of Node's EventEmitter
type AnyServerListener = (this: WebSocketServer, ...args: any[]) => void;

/** Typed listeners for the events a WebSocketServer emits (declaration merging with the class). */
export interface WebSocketServer {
  on<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  on(event: string | symbol, listener: AnyServerListener): this;
  once<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  once(event: string | symbol, listener: AnyServerListener): this;
  off<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  off(event: string | symbol, listener: AnyServerListener): this;
  addListener<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  addListener(event: string | symbol, listener: AnyServerListener): this;
  removeListener<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  removeListener(event: string | symbol, listener: AnyServerListener): this;
  prependListener<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  prependListener(event: string | symbol, listener: AnyServerListener): this;
  prependOnceListener<E extends keyof WebSocketServerEvents>(event: E, listener: ServerListener<E>): this;
  prependOnceListener(event: string | symbol, listener: AnyServerListener): this;
}

function emitServerClose(server: WebSocketServer): void {
  server.emit('close');
}
