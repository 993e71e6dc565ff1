// A wskit.topics.v1 client for the tests, written by hand from docs/topics-protocol.md: it records
// every message the server sends and waits for replies and messages with deadlines.
import { EVENT_TIMEOUT, next, WebSocket, within } from '../node/helpers.js';

export type Reply = Record<string, unknown> & { type: string };

export class TopicsPeer {
  readonly ws: WebSocket;
  readonly received: Reply[] = [];
  private nextId = 0;
  private waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.received.push(JSON.parse(data.toString()) as Reply);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  /** Opens a connection offering wskit.topics.v1 (terminated by terminateAll or the caller). */
  static async open(url: string, cleanup?: (fn: () => void) => void): Promise<TopicsPeer> {
    const ws = new WebSocket(url, 'wskit.topics.v1');
    cleanup?.(() => ws.terminate());
    const peer = new TopicsPeer(ws);
    await next(ws, 'open');
    return peer;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends a request with a fresh id and resolves with the reply carrying it. */
  async request(message: Record<string, unknown>, ms = EVENT_TIMEOUT): Promise<Reply> {
    const id = ++this.nextId;
    this.send({ ...message, id });
    return this.until((r) => r.id === id, 1, ms).then((replies) => replies[0]);
  }

  /** Resolves once `count` received messages match `predicate` (with them). */
  async until(predicate: (r: Reply) => boolean, count = 1, ms = EVENT_TIMEOUT): Promise<Reply[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = () =>
          this.received.filter(predicate).length >= count ? resolve() : this.waiters.push(check);
        check();
      }),
      `${count} matching messages (received: ${JSON.stringify(this.received.slice(-5))})`,
      ms,
    );
    return this.received.filter(predicate);
  }

  /** The `message`s of a topic received so far. */
  messages(topic: string): Reply[] {
    return this.received.filter((r) => r.type === 'message' && r.topic === topic);
  }

  /** Resolves once `count` messages of `topic` have arrived; returns their data. */
  async data(topic: string, count: number, ms = EVENT_TIMEOUT): Promise<string[]> {
    const messages = await this.until((r) => r.type === 'message' && r.topic === topic, count, ms);
    return messages.map((m) => m.data as string);
  }
}
