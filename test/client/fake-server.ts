// A small wskit.topics.v1 server written from docs/topics-protocol.md for the client's tests: topics
// with an in-memory history, resume with `since`, acknowledged publishes with keys, presence and
// ping. Its knobs let a test break it on purpose: stay silent (no pongs), skip a message to a
// connection, change a topic's epoch, refuse a topic, drop every connection.
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from '../../src/index.js';

export const SUBPROTOCOL = 'wskit.topics.v1';

interface Stored {
  offset: number;
  data: string;
  binary: boolean;
  key: string | undefined;
}

export interface Topic {
  epoch: string;
  messages: Stored[];
  subscribers: Set<Peer>;
  members: Map<Peer, unknown>;
}

interface Peer {
  ws: WebSocket;
  id: string;
  received: Record<string, unknown>[];
}

export interface FakeServerOptions {
  /** Select no subprotocol (a server that does not speak wskit.topics.v1). */
  noSubprotocol?: boolean;
  /** Topics whose subscribe and publish are refused with `forbidden`. */
  forbidden?: string[];
  /** Retention: only the last `retain` messages of a topic are kept. Default: all. */
  retain?: number;
  /** Another server's topics, shared (as through a broker). */
  topics?: Map<string, Topic>;
  /** Default 0: a free port. */
  port?: number;
}

export class FakeTopicsServer {
  readonly wss: WebSocketServer;
  readonly peers = new Set<Peer>();
  /** Every frame any client sent, parsed, in order. */
  readonly frames: Record<string, unknown>[] = [];
  /** The topics: pass one server's to another's start() for two servers sharing a broker. */
  readonly topics: Map<string, Topic>;
  /** No answers to `ping` (a server that hangs). */
  silent = false;
  /** Publishes are stored but not acked (the ack is "lost"). */
  noAcks = false;
  private nextPeer = 1;
  private readonly options: FakeServerOptions;

  private constructor(wss: WebSocketServer, options: FakeServerOptions) {
    this.wss = wss;
    this.options = options;
    this.topics = options.topics ?? new Map();
    wss.on('connection', (ws: WebSocket) => this.accept(ws));
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeTopicsServer> {
    const wss = new WebSocketServer({
      port: options.port ?? 0,
      host: '127.0.0.1',
      heartbeat: false,
      handleProtocols: (protocols: Set<string>) =>
        options.noSubprotocol ? false : protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false,
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve());
      wss.once('error', reject);
    });
    return new FakeTopicsServer(wss, options);
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = { epoch: 'e1', messages: [], subscribers: new Set(), members: new Map() };
      this.topics.set(name, topic);
    }
    return topic;
  }

  lastOffset(name: string): number {
    return this.topic(name).messages.at(-1)?.offset ?? this.topic(name).messages.length;
  }

  /** Publishes from the server side; `skip` gets no copy (as if a slow connection was skipped). */
  publish(name: string, data: string, options: { key?: string; skip?: Peer } = {}): number {
    const topic = this.topic(name);
    if (options.key !== undefined) {
      const stored = topic.messages.find((m) => m.key === options.key);
      if (stored !== undefined) return stored.offset;
    }
    const offset = (topic.messages.at(-1)?.offset ?? 0) + 1;
    topic.messages.push({ offset, data, binary: false, key: options.key });
    if (this.options.retain !== undefined && topic.messages.length > this.options.retain) {
      topic.messages.splice(0, topic.messages.length - this.options.retain);
    }
    for (const peer of this.subscribersOf(name)) {
      if (peer === options.skip) continue;
      this.send(peer, { type: 'message', topic: name, offset, epoch: topic.epoch, data });
    }
    return offset;
  }

  /** The connections subscribed to `name` on every server sharing the topics. */
  private subscribersOf(name: string): Set<Peer> {
    return this.topic(name).subscribers;
  }

  /** The history is lost: a new epoch, offsets from 1 again. */
  newEpoch(name: string, epoch: string): void {
    const topic = this.topic(name);
    topic.epoch = epoch;
    topic.messages = [];
  }

  /** Frames of a type the clients sent. */
  sent(type: string): Record<string, unknown>[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Drops every connection without a closing handshake (a server that died). */
  dropAll(): void {
    for (const peer of this.peers) peer.ws.terminate();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    const peer: Peer = { ws, id: `c${this.nextPeer++}`, received: [] };
    this.peers.add(peer);
    ws.on('message', (data: RawData) => this.receive(peer, String(data)));
    ws.on('close', () => {
      this.peers.delete(peer);
      for (const [name, topic] of this.topics) {
        topic.subscribers.delete(peer);
        this.leave(name, topic, peer);
      }
    });
  }

  private send(peer: Peer, message: Record<string, unknown>): void {
    if (peer.ws.readyState === peer.ws.OPEN) peer.ws.send(JSON.stringify(message));
  }

  private leave(name: string, topic: Topic, peer: Peer): void {
    if (!topic.members.has(peer)) return;
    const info = topic.members.get(peer);
    topic.members.delete(peer);
    for (const other of topic.members.keys()) {
      this.send(other, { type: 'leave', topic: name, member: { client: peer.id, info } });
    }
  }

  private receive(peer: Peer, text: string): void {
    const m = JSON.parse(text) as Record<string, unknown>;
    this.frames.push(m);
    peer.received.push(m);
    const id = m.id;
    const name = m.topic as string;
    if (typeof name === 'string' && this.options.forbidden?.includes(name)) {
      this.send(peer, { type: 'error', id, code: 'forbidden', message: `${name} is not for you` });
      return;
    }
    switch (m.type) {
      case 'subscribe': {
        const topic = this.topic(name);
        const last = topic.messages.at(-1)?.offset ?? 0;
        const since = m.since as { offset: number; epoch: string } | undefined;
        let replay: Stored[] = [];
        const reply: Record<string, unknown> = {
          type: 'subscribed',
          id,
          topic: name,
          epoch: topic.epoch,
          offset: last,
          recovered: false,
        };
        if (since !== undefined) {
          const first = topic.messages[0]?.offset ?? last + 1;
          if (since.epoch !== topic.epoch) {
            reply.gap = { reason: 'epoch' };
            replay = topic.messages;
          } else if (since.offset + 1 < first && since.offset < last) {
            reply.gap = { reason: 'retention', from: since.offset + 1, to: first - 1 };
            replay = topic.messages;
          } else {
            reply.recovered = true;
            replay = topic.messages.filter((s) => s.offset > since.offset);
          }
        } else if (typeof m.history === 'number' && m.history > 0) {
          replay = topic.messages.slice(-m.history);
        }
        this.send(peer, reply);
        for (const s of replay) {
          this.send(peer, {
            type: 'message',
            topic: name,
            offset: s.offset,
            epoch: topic.epoch,
            data: s.data,
          });
        }
        topic.subscribers.add(peer);
        const presence = m.presence as { info: unknown } | undefined;
        if (presence !== undefined) {
          for (const other of topic.members.keys()) {
            this.send(other, { type: 'join', topic: name, member: { client: peer.id, info: presence.info } });
          }
          topic.members.set(peer, presence.info);
        }
        break;
      }
      case 'unsubscribe': {
        const topic = this.topic(name);
        topic.subscribers.delete(peer);
        this.leave(name, topic, peer);
        this.send(peer, { type: 'unsubscribed', id, topic: name });
        break;
      }
      case 'publish': {
        const offset = this.publish(name, m.data as string, { key: m.key as string | undefined });
        if (!this.noAcks) {
          this.send(peer, { type: 'ack', id, topic: name, offset, epoch: this.topic(name).epoch });
        }
        break;
      }
      case 'presence': {
        const topic = this.topic(name);
        const members = [...topic.members].map(([p, info]) => ({ client: p.id, info }));
        this.send(peer, { type: 'presence', id, topic: name, members });
        break;
      }
      case 'ping':
        if (!this.silent) this.send(peer, { type: 'pong', id });
        break;
      default:
        this.send(peer, { type: 'error', id, code: 'bad_message', message: 'unknown type' });
    }
  }
}
