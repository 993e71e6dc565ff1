// Helpers for the tests of topics through Redis: a real redis-server on a free loopback port, started
// and killed by the test, and server processes (fixtures/topics-process.ts) driven over IPC. Every
// wait has a deadline; every process started here is killed by stopProcesses() (and at exit).
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { EVENT_TIMEOUT, type WebSocket, within } from '../node/helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/topics-process.ts', import.meta.url));
/** Starting a fixture means starting node and tsx: slower than any single event. */
const START_TIMEOUT = 15_000;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Kills every process these helpers started that is still running (for after / afterEach). */
export async function stopProcesses(): Promise<void> {
  await Promise.all([...children].map((child) => killProcess(child)));
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await within(exited, `process ${child.pid} to exit`);
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A TCP port nobody listens on right now (the system picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of the test's own: no persistence, loopback only. */
export class RedisServer {
  readonly port: number;
  private child: ChildProcess | null = null;

  private readonly cluster: boolean;
  /** A cluster node's folder (its nodes.conf). */
  private dir: string | undefined;

  private constructor(port: number, cluster: boolean) {
    this.port = port;
    this.cluster = cluster;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts one on a free port (another one if that port got taken meanwhile). `cluster`: a Redis
   * Cluster of this one node, holding every slot (its rules apply: a script's keys in one slot).
   */
  static async start(options: { cluster?: boolean } = {}): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const redis = new RedisServer(await freePort(), options.cluster === true);
      try {
        await redis.start();
        return redis;
      } catch (err) {
        if (attempt === 3 || !/Address already in use/.test((err as Error).message)) throw err;
      }
    }
  }

  /** Starts redis-server on this.port and resolves once it answers PING. */
  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (this.cluster) {
      this.dir ??= mkdtempSync(join(tmpdir(), 'wskit-redis-cluster-'));
      args.push('--cluster-enabled', 'yes', '--dir', this.dir);
    }
    const child = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child = child;
    const log: string[] = [];
    const started = new Promise<void>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new Error('redis-server is not installed: apt-get install redis-server (npm test does it)')
            : err,
        ),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log.join('\n')}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        log.push(line);
        if (/Ready to accept connections/.test(line)) resolve();
      });
      child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    });
    await within(started, `redis-server to start on port ${this.port}`, START_TIMEOUT);
    const client = this.client();
    try {
      assert((await within(client.ping(), 'PING')) === 'PONG', 'redis-server answers PONG');
      if (this.cluster) {
        await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
        // The node marks the cluster ok on its next cron run (every 100 ms): nothing to wait on but it.
        const deadline = Date.now() + START_TIMEOUT;
        while (!/cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO')))) {
          if (Date.now() > deadline) throw new Error('the one-node Redis Cluster did not become ok');
          await setTimeout(20);
        }
      }
    } finally {
      client.disconnect();
    }
  }

  /** CLUSTER KEYSLOT of each key (a cluster node only). */
  async keyslots(keys: string[]): Promise<number[]> {
    const client = this.client();
    try {
      return await Promise.all(keys.map(async (key) => Number(await client.call('CLUSTER', 'KEYSLOT', key))));
    } finally {
      client.disconnect();
    }
  }

  /** Kills it at once (SIGKILL: no goodbye to its clients) and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.child !== null) await killProcess(this.child);
    this.child = null;
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** A plain client for the test's own commands; disconnect it when done. */
  client(): Redis {
    return new Redis(this.url, { retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: false });
  }

  /** Subscriptions per channel (PUBSUB NUMSUB). */
  async numsub(...channels: string[]): Promise<Record<string, number>> {
    const client = this.client();
    try {
      const reply = (await client.call('PUBSUB', 'NUMSUB', ...channels)) as (string | number)[];
      const counts: Record<string, number> = {};
      for (let i = 0; i < reply.length; i += 2) counts[String(reply[i])] = Number(reply[i + 1]);
      return counts;
    } finally {
      client.disconnect();
    }
  }

  /**
   * Records every command Redis executes from now on (MONITOR). `sync()` resolves once the commands
   * executed before it was called have been recorded.
   */
  async monitor(): Promise<{
    commands: string[][];
    sync(): Promise<void>;
    until(what: string, count: number, predicate: (command: string[]) => boolean): Promise<void>;
    stop(): void;
  }> {
    // A raw connection: ioredis's monitor() mistakes a command shown in the same packet as MONITOR's
    // "+OK" for a reply ("Command queue state error") when Redis is busy.
    const monitor = connect(this.port, '127.0.0.1');
    monitor.on('error', () => {}); // Redis killed before stop(): nothing to report
    monitor.setEncoding('utf8');
    const started = new Promise<void>((resolve, reject) => {
      monitor.once('error', reject);
      monitor.once('data', () => resolve());
    });
    monitor.write('MONITOR\r\n');
    const commands: string[][] = [];
    let waiters: { marker: string; resolve: () => void }[] = [];
    let watchers: (() => void)[] = [];
    let pending = '';
    monitor.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\r\n');
      pending = lines.pop()!;
      for (const line of lines) if (line !== '+OK') onCommand(parseMonitorLine(line));
    });
    function onCommand(args: string[]): void {
      commands.push(args);
      const current = watchers;
      watchers = [];
      for (const check of current) check();
      if (args[0]?.toLowerCase() !== 'echo') return;
      for (const w of waiters) if (w.marker === args[1]) w.resolve();
      waiters = waiters.filter((w) => w.marker !== args[1]);
    }
    await within(started, 'MONITOR to start');
    let markers = 0;
    return {
      commands,
      // Redis runs commands one at a time: once our marker shows up, everything before it has.
      sync: async () => {
        const marker = `sync-${++markers}`;
        const seen = new Promise<void>((resolve) => waiters.push({ marker, resolve }));
        const client = this.client();
        try {
          await client.echo(marker);
        } finally {
          client.disconnect();
        }
        await within(seen, 'MONITOR to show the marker command');
      },
      /** Resolves once `count` commands recorded match `predicate`. */
      until: (what, count, predicate) =>
        within(
          new Promise<void>((resolve) => {
            const check = () =>
              commands.filter(predicate).length >= count ? resolve() : watchers.push(check);
            check();
          }),
          `${count} ${what} in MONITOR`,
        ),
      stop: () => monitor.destroy(),
    };
  }

  /** CLIENT LIST, parsed: one record of fields per connection. */
  async clientList(): Promise<Record<string, string>[]> {
    const client = this.client();
    try {
      const text = (await client.call('CLIENT', 'LIST')) as string;
      return text
        .trim()
        .split('\n')
        .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split(/=(.*)/s, 2))));
    } finally {
      client.disconnect();
    }
  }
}

/** The command of a MONITOR line: `+1700000000.1 [0 127.0.0.1:5000] "subscribe" "wskit:room"`. */
function parseMonitorLine(line: string): string[] {
  const args: string[] = [];
  for (const [, quoted] of line.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    args.push(
      quoted.replace(/\\(x[0-9a-f]{2}|.)/g, (_, code: string) =>
        code.length === 3 ? String.fromCharCode(Number.parseInt(code.slice(1), 16)) : code,
      ),
    );
  }
  return args;
}

function assert(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

export interface BrokerErrorReport {
  server: number;
  code: string;
  message: string;
}

/** A process of fixtures/topics-process.ts: WebSocketServers sharing a RedisBroker. */
export class TopicsProcess {
  readonly child: ChildProcess;
  ports: number[] = [];
  readonly brokerErrors: BrokerErrorReport[] = [];
  private nextId = 0;
  private readonly replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private errorWaiters: (() => void)[] = [];

  private constructor(env: Record<string, string>) {
    this.child = track(
      fork(FIXTURE, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.child.on('message', (m: { type: string; id: number; value?: unknown; error?: Error }) => {
      if (m.type === 'reply') {
        const pending = this.replies.get(m.id);
        this.replies.delete(m.id);
        if (m.error === undefined) pending?.resolve(m.value);
        else pending?.reject(Object.assign(new Error(m.error.message), m.error));
      } else if (m.type === 'brokerError') {
        this.brokerErrors.push(m as unknown as BrokerErrorReport);
        const waiters = this.errorWaiters;
        this.errorWaiters = [];
        for (const w of waiters) w();
      }
    });
    this.child.once('exit', (code, signal) => {
      for (const pending of this.replies.values()) {
        pending.reject(new Error(`the server process exited (${code ?? signal})`));
      }
      this.replies.clear();
    });
  }

  /** Starts a process with `servers` servers sharing a RedisBroker on `redisUrl`; resolves once they listen. */
  static async start(
    redisUrl: string,
    options: { servers?: number; maxBackpressure?: number; durable?: unknown; presenceTtl?: number } = {},
  ): Promise<TopicsProcess> {
    const env: Record<string, string> = { REDIS_URL: redisUrl, SERVERS: String(options.servers ?? 2) };
    if (options.maxBackpressure !== undefined) env.MAX_BACKPRESSURE = String(options.maxBackpressure);
    if (options.durable !== undefined) env.DURABLE = JSON.stringify(options.durable);
    if (options.presenceTtl !== undefined) env.PRESENCE_TTL = String(options.presenceTtl);
    const p = new TopicsProcess(env);
    const listening = new Promise<number[]>((resolve, reject) => {
      p.child.on('message', (m: { type: string; ports?: number[] }) => {
        if (m.type === 'listening') resolve(m.ports!);
      });
      p.child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
    });
    p.ports = await within(listening, 'the server process to listen', START_TIMEOUT);
    return p;
  }

  url(server: number, topics: string[] = []): string {
    const query = topics.length === 0 ? '' : `/?topics=${topics.map(encodeURIComponent).join(',')}`;
    return `ws://127.0.0.1:${this.ports[server]}${query}`;
  }

  /** Runs an op of the fixture and resolves with its result. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}, ms = EVENT_TIMEOUT): Promise<T> {
    const id = ++this.nextId;
    const reply = new Promise<T>((resolve, reject) => {
      this.replies.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.child.send({ id, op, ...args });
    return within(reply, `the server process to answer ${op}`, ms);
  }

  /** The next brokerError reports, until `count` have arrived in all (bounded). */
  async brokerErrorsUntil(count: number, ms = EVENT_TIMEOUT): Promise<BrokerErrorReport[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = () => (this.brokerErrors.length >= count ? resolve() : this.errorWaiters.push(check));
        check();
      }),
      `${count} 'brokerError' events`,
      ms,
    );
    return this.brokerErrors;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** The messages a client receives, in order, with a way to wait for the next ones. */
export class Inbox {
  readonly messages: { data: string; isBinary: boolean }[] = [];
  private waiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data: data.toString(), isBinary });
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  /** Resolves once `count` messages have arrived in all. */
  async until(count: number, ms = EVENT_TIMEOUT): Promise<{ data: string; isBinary: boolean }[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = () => (this.messages.length >= count ? resolve() : this.waiters.push(check));
        check();
      }),
      `${count} messages (got ${this.messages.length})`,
      ms,
    );
    return this.messages;
  }

  get texts(): string[] {
    return this.messages.map((m) => m.data);
  }
}
