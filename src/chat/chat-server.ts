/**
 * The chat server: one HTTP server for the page (StaticFiles) and the WebSocket endpoint `/ws`
 * (a WebSocketServer attached to it). Each room is a topic, `chat/ROOM`: a message is published once
 * and reaches the room's members on this server and, through the broker, on every server sharing it.
 * Presence (who is online) is the durable presence of the room's topic, shared by every server and
 * kept from join/leave deltas, its entries expiring after a server crash (presence.ts);
 * a member gets the whole list once, in `welcome`, then only what changes (`users`), published on a
 * topic of this server's own (`chat-users/SERVER/ROOM`): every byte a member is sent goes through the
 * topics' backpressure policy, and N joins cost O(N) per member, not O(N²).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SUBPROTOCOL } from '../client/wire.js';
import {
  type Broker,
  type HeartbeatOptions,
  InMemoryBroker,
  type RawData,
  type VerifyClientCallback,
  type VerifyClientInfo,
  type WebSocket,
  WebSocketError,
  WebSocketServer,
} from '../index.js';
import { AllowedOrigins } from './allowed-origins.js';
import { nameSkeleton } from './name-skeleton.js';
import { Presence } from './presence.js';
import {
  ChatError,
  type ChatLimits,
  DEFAULT_LIMITS,
  encode,
  parseClientMessage,
  type ServerMessage,
} from './protocol.js';
import { type RateLimitOptions, TokenBucket } from './rate-limiter.js';
import {
  CLIENT_PATH,
  DEFAULT_CLIENT_DIR,
  DEFAULT_HISTORY,
  loadClientFiles,
  roomTopic,
  roomTopicsOptions,
} from './room-topics.js';
import { Rooms, sortNames } from './rooms.js';
import { StaticFiles } from './static-files.js';

/** The page's files: public/ at the package root, two folders up from src/chat/ and dist/chat/. */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
/** The WebSocket endpoint's path. */
export const WEBSOCKET_PATH = '/ws';

/** Largest frame read at all; a bigger one closes the connection with 1009 (before it is buffered). */
const MAX_PAYLOAD = 64 * 1024;
/** Messages dropped in a row by the rate limiter after which the connection is closed with 1008. */
const MAX_DROPPED = 50;
/** Close code for a connection replaced by a newer one of the same page (same session token). */
export const CLOSE_REPLACED = 4001;
/** Members a room may have on one server, by default. */
export const DEFAULT_MAX_ROOM_MEMBERS = 1000;
/** Bytes waiting to be sent to a member past which it is closed with 1008, by default. */
export const DEFAULT_CHAT_MAX_BACKPRESSURE = 1024 * 1024;

export interface ChatServerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Shares rooms with the other servers using it (a RedisBroker for several processes). Default: none. */
  broker?: Broker;
  /** The folder of the page's files. Default: the package's public/. */
  publicDir?: string;
  /**
   * The folder of wskit/client's ES modules, served at /client/. Default: the package's dist/client/
   * (when it is missing, the page cannot show messages: the server logs an error).
   */
  clientDir?: string;
  /**
   * Messages and notices kept per room (the room's durable topic `chat/ROOM`, for at most 24 h): a
   * newcomer sees them, and a page that reconnects (to any server sharing the broker) gets every
   * one it missed. 0 keeps offsets but no history. Default 100.
   */
  history?: number;
  /** Overrides of DEFAULT_LIMITS. */
  limits?: Partial<ChatLimits>;
  /** Messages per connection: default a burst of 10, then 3 a second. */
  rateLimit?: RateLimitOptions;
  /** The server's heartbeat (default on: ping after 30 s of silence, drop after 30 s more). */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Most members a room may have on this server; one more gets `room_full`. Default 1,000. (Each join
   * is sent to every member: the cap bounds what one room costs.)
   */
  maxRoomMembers?: number;
  /**
   * Origins (`https://chat.example.com`) whose pages may connect, besides those of the addresses the
   * server listens on (always allowed). Default: none.
   */
  allowedOrigins?: readonly string[];
  /**
   * A member with more than this many bytes waiting to be sent is closed with 1008 (the topics'
   * `maxBackpressure` with the 'close' policy: a page that missed a change of who is online would show
   * a wrong list; closed, it reconnects and gets the whole list again). Default 1 MiB.
   */
  maxBackpressure?: number;
  /**
   * Where to report what happens, one line each: 'info' for joins and leaves (never what people
   * write), 'warn' for a connection's errors (a client's fault), 'error' for the server's and the
   * broker's. Default: nowhere.
   */
  log?: (line: string, level: LogLevel) => void;
}

export type LogLevel = 'info' | 'warn' | 'error';

export {
  CLIENT_PATH,
  DEFAULT_CLIENT_DIR,
  DEFAULT_HISTORY,
  HISTORY_MAX_AGE,
  roomTopic,
} from './room-topics.js';

interface Client {
  readonly ws: WebSocket;
  readonly bucket: TokenBucket;
  room: string | null;
  name: string;
  session: string | undefined;
  /** Messages dropped in a row by the rate limiter. */
  dropped: number;
  /** When the last rate_limited error was sent (one a second at most). */
  limitNoticeAt: number;
  /** The page reads the room from its durable topic: this connection is not subscribed to it. */
  stream: boolean;
  /** Its member in the presence of the room it is in. */
  readonly member: string;
  /** Joins so far: a welcome waiting for the room's list is sent only for the latest. */
  joins: number;
}

export class ChatServer {
  readonly limits: ChatLimits;
  /** Messages kept per room. */
  readonly history: number;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly broker: Broker;
  private readonly ownBroker: boolean;
  private readonly presence: Presence;
  private readonly rooms = new Rooms<Client>();
  private readonly options: ChatServerOptions;
  private readonly log: (line: string, level: LogLevel) => void;
  private readonly maxRoomMembers: number;
  private readonly origins: AllowedOrigins;
  /** The last broker error reported, and when: the server and the presence both hear of each one. */
  private lastBrokerError = { message: '', at: -Infinity };
  private closing: Promise<void> | null = null;

  /** Loads the page's files and starts listening; rejects if the port cannot be listened on. */
  static async listen(options: ChatServerOptions = {}): Promise<ChatServer> {
    const server = new ChatServer(options);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.http.once('error', onError);
      server.http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
        server.http.off('error', onError);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
    return server;
  }

  private constructor(options: ChatServerOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.log = options.log ?? (() => {});
    this.maxRoomMembers = options.maxRoomMembers ?? DEFAULT_MAX_ROOM_MEMBERS;
    if (!Number.isInteger(this.maxRoomMembers) || this.maxRoomMembers < 1) {
      throw new WebSocketError(
        'WS_ERR_INVALID_ARGUMENT',
        `Option maxRoomMembers must be an integer ≥ 1; got ${String(options.maxRoomMembers)}`,
      );
    }
    this.origins = new AllowedOrigins(options.allowedOrigins ?? [], () => {
      const at = this.http.address();
      return at === null || typeof at === 'string' ? null : at;
    });
    this.history = options.history ?? DEFAULT_HISTORY;
    if (!Number.isSafeInteger(this.history) || this.history < 0) {
      throw new WebSocketError(
        'WS_ERR_INVALID_ARGUMENT',
        `Option history must be an integer ≥ 0; got ${String(options.history)}`,
      );
    }
    const files = new StaticFiles(options.publicDir ?? DEFAULT_PUBLIC_DIR);
    const clientFiles = loadClientFiles(options.clientDir ?? DEFAULT_CLIENT_DIR, this.log);
    this.http = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) =>
      clientFiles !== null && req.url?.startsWith(CLIENT_PATH)
        ? clientFiles.handle(req, res)
        : files.handle(req, res),
    );
    this.ownBroker = options.broker === undefined;
    this.broker = options.broker ?? new InMemoryBroker();
    this.wss = new WebSocketServer({
      server: this.http,
      path: WEBSOCKET_PATH,
      broker: this.broker,
      maxPayload: MAX_PAYLOAD,
      perMessageDeflate: true,
      heartbeat: options.heartbeat,
      maxBackpressure: options.maxBackpressure ?? DEFAULT_CHAT_MAX_BACKPRESSURE,
      backpressurePolicy: 'close',
      // Rooms are durable topics, which pages may only read (room-topics.ts).
      durable: roomTopicsOptions(this.limits, this.history),
      verifyClient: (info: VerifyClientInfo, cb: VerifyClientCallback) =>
        this.origins.allows(info.origin)
          ? cb(true)
          : cb(false, 403, 'Connections from pages of other origins are not accepted'),
    });
    // Before listening, an error is the listen() failing, which listen() reports.
    this.wss.on('error', (err: Error) => {
      if (this.http.listening) this.log(`server error: ${err.message}`, 'error');
    });
    this.wss.on('brokerError', (err: Error) => this.brokerError(err));
    this.wss.on('connection', (ws: WebSocket) => this.guarded(ws, () => this.accept(ws)));
    this.presence = new Presence({
      durable: this.wss.durable!,
      onRemoteChange: (room, added, removed) => this.remoteChange(room, added, removed),
      onError: (err) => this.brokerError(err),
    });
  }

  /** The page's URL: `http://127.0.0.1:8080/`. */
  get url(): string {
    const { address, port } = this.http.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}/`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Who is online in `room`: this server's members and the other servers'. */
  users(room: string): string[] {
    return sortNames([...this.rooms.names(room), ...this.presence.remoteUsers(room)]);
  }

  /**
   * Closes every connection with 1001 (waiting for the closing handshakes, as WebSocketServer.close()
   * does), tells the other servers its members left, and stops listening.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
      this.presence.close();
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
      if (this.ownBroker) await this.broker.close();
    })();
    return this.closing;
  }

  private accept(ws: WebSocket): void {
    // A wskit.topics.v1 connection (a page reading its room) is served by the server's durable topics;
    // the chat only holds it to the same rate limit.
    if (ws.protocol === SUBPROTOCOL) {
      this.limitTopicsConnection(ws);
      return;
    }
    const client: Client = {
      ws,
      bucket: new TokenBucket(this.options.rateLimit),
      room: null,
      name: '',
      session: undefined,
      dropped: 0,
      limitNoticeAt: -Infinity,
      stream: false,
      member: this.presence.newMember(),
      joins: 0,
    };
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.guarded(ws, () => this.receive(client, toBuffer(data), isBinary)),
    );
    ws.on('close', () => this.guarded(ws, () => this.leave(client)));
    ws.on('error', (err: Error) => this.log(`connection error: ${err.message}`, 'warn'));
  }

  /**
   * Runs a connection's handler; a throw (a bug: what clients send wrong is a ChatError, answered)
   * is logged as an error and closes that connection with 1011, never the server.
   */
  private guarded(ws: WebSocket, handler: () => void): void {
    try {
      handler();
    } catch (err) {
      try {
        this.log(`internal error, connection closed with 1011: ${describe(err)}`, 'error');
      } catch {
        // A log that throws must not end the server either.
      }
      try {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
          ws.close(1011, 'Internal server error');
        } else if (ws.readyState === ws.CLOSING) ws.terminate();
      } catch {
        ws.terminate();
      }
    }
  }

  private receive(client: Client, data: Buffer, isBinary: boolean): void {
    if (!client.bucket.take()) {
      this.limited(client);
      return;
    }
    client.dropped = 0;
    try {
      const message = parseClientMessage(data, isBinary, this.limits);
      switch (message.type) {
        case 'join':
          this.join(client, message.room, message.name, message.session, message.stream === true);
          break;
        case 'message':
          this.say(client, message.text);
          break;
        case 'leave':
          this.leave(client);
          break;
      }
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      this.send(client, err.toMessage());
    }
  }

  /**
   * A page's wskit.topics.v1 connection sends a subscribe per room and a ping now and then: one that
   * goes on past the rate limit (MAX_DROPPED messages over it in a row) is closed with 1008. (Its
   * messages are the durable topics'; this only counts them.)
   */
  private limitTopicsConnection(ws: WebSocket): void {
    const bucket = new TokenBucket(this.options.rateLimit);
    let over = 0;
    ws.on('message', () => {
      if (bucket.take()) over = 0;
      else if (++over > MAX_DROPPED && ws.readyState === ws.OPEN) ws.close(1008, 'Too many messages');
    });
  }

  private brokerError(err: Error): void {
    const now = performance.now();
    const last = this.lastBrokerError;
    if (err.message === last.message && now - last.at < 1000) return;
    this.lastBrokerError = { message: err.message, at: now };
    this.log(`broker error: ${err.message}`, 'error');
  }

  private limited(client: Client): void {
    if (++client.dropped > MAX_DROPPED) {
      client.ws.close(1008, 'Too many messages');
      return;
    }
    const now = performance.now();
    if (now - client.limitNoticeAt < 1000) return;
    client.limitNoticeAt = now;
    const wait = Math.max(1, Math.ceil(client.bucket.waitTime() / 1000));
    this.send(
      client,
      new ChatError(
        'rate_limited',
        `You are sending messages too fast: that one was not sent. Try again in ${wait} s.`,
      ).toMessage(),
    );
  }

  private join(
    client: Client,
    room: string,
    name: string,
    session: string | undefined,
    stream: boolean,
  ): void {
    if (client.room === room && nameSkeleton(client.name) === nameSkeleton(name)) {
      this.send(client, this.welcome(client));
      return;
    }
    const holder = this.rooms.find(room, name);
    let takeover = false;
    if (holder !== undefined && holder !== client) {
      if (session === undefined || holder.session !== session) {
        throw new ChatError('name_taken', `Someone in #${room} is already called ${holder.name}.`);
      }
      // The same page reconnected before its old connection was noticed gone: the new one takes over.
      takeover = true;
    }
    const staying = this.rooms.size(room) - (takeover ? 1 : 0) - (client.room === room ? 1 : 0);
    if (staying >= this.maxRoomMembers) {
      throw new ChatError(
        'room_full',
        `#${room} is full: ${this.maxRoomMembers} people are in it. Try another room.`,
      );
    }
    if (client.room !== null) this.leave(client);
    const changing = holder === undefined || holder.name === name ? [name] : [name, holder.name];
    const before = changing.map((n) => this.online(room, n));
    if (takeover && holder !== undefined) {
      this.rooms.remove(room, holder);
      this.presence.leave(room, holder.member);
      holder.room = null;
      holder.ws.close(CLOSE_REPLACED, 'Replaced by a newer connection');
    }
    client.room = room;
    client.name = name;
    client.session = session;
    this.rooms.add(room, client);
    this.presence.join(room, client.member, name);
    this.sendUsers(
      room,
      changing.filter((n, i) => !before[i] && this.online(room, n)),
      changing.filter((n, i) => before[i] && !this.online(room, n)),
    );
    client.stream = stream;
    if (!takeover) {
      this.log(`${name} joined #${room}`, 'info');
      this.publish(room, { type: 'joined', room, name, ts: Date.now() }, client.ws);
    }
    // The welcome lists who is online: the first member of a room on this server waits for the
    // room's list to be read (the room's messages and changes start after the welcome).
    const join = ++client.joins;
    const welcome = () => {
      if (client.joins !== join || client.room !== room || client.ws.readyState !== client.ws.OPEN) return;
      if (!stream) client.ws.subscribe(roomTopic(room));
      client.ws.subscribe(this.usersTopic(room));
      this.send(client, this.welcome(client));
    };
    const ready = this.presence.whenReady(room);
    if (ready === null) welcome();
    else ready.then(() => this.guarded(client.ws, welcome));
  }

  private leave(client: Client): void {
    const room = client.room;
    if (room === null) return;
    client.room = null;
    this.rooms.remove(room, client);
    if (client.ws.readyState !== client.ws.CLOSED) {
      client.ws.unsubscribe(roomTopic(room));
      client.ws.unsubscribe(this.usersTopic(room));
    }
    this.presence.leave(room, client.member);
    this.log(`${client.name} left #${room}`, 'info');
    this.publish(room, { type: 'left', room, name: client.name, ts: Date.now() });
    if (!this.online(room, client.name)) this.sendUsers(room, [], [client.name]);
  }

  private say(client: Client, text: string): void {
    if (client.room === null) throw new ChatError('not_joined', 'Join a room before sending messages.');
    this.publish(client.room, {
      type: 'message',
      id: randomUUID(),
      room: client.room,
      name: client.name,
      text,
      ts: Date.now(),
    });
  }

  private welcome(client: Client): ServerMessage {
    const room = client.room as string;
    return {
      type: 'welcome',
      room,
      name: client.name,
      users: this.users(room),
      limits: this.limits,
      topic: roomTopic(room),
      history: this.history,
    };
  }

  /** Whether someone called `name` is online in `room`, here or on another server. */
  private online(room: string, name: string): boolean {
    return this.rooms.hasName(room, name) || this.presence.hasRemote(room, name);
  }

  /** The other servers' names in `room` changed: tells this server's members what that changes. */
  private remoteChange(room: string, added: string[], removed: string[]): void {
    const here = (name: string) => this.rooms.hasName(room, name);
    this.sendUsers(
      room,
      added.filter((n) => !here(n)),
      removed.filter((n) => !here(n)),
    );
  }

  /**
   * Tells this server's members of `room` who came and went: published on the room's topic of this
   * server, so a member over maxBackpressure is closed (and its page reconnects) rather than queued more.
   */
  private sendUsers(room: string, add: string[], remove: string[]): void {
    if (add.length === 0 && remove.length === 0) return;
    this.wss.publish(this.usersTopic(room), encode({ type: 'users', room, add, remove }));
  }

  /** This server's own topic for `room`'s presence changes: no other server's members are on it. */
  private usersTopic(room: string): string {
    return `chat-users/${this.presence.serverId}/${room}`;
  }

  private publish(room: string, message: ServerMessage, except?: WebSocket): void {
    this.wss.publish(roomTopic(room), encode(message), { except });
  }

  private send(client: Client, message: ServerMessage): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(encode(message));
  }
}

/** Text arrives as a Buffer (binaryType 'nodebuffer'); the other shapes are for completeness. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.alloc(0);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
