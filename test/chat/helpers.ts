// Helpers for the chat tests: a raw chat client that queues what the server sends and waits for a
// message of a given type with a deadline (never sleeping), and servers that are closed after each test.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ChatServer, type ChatServerOptions } from '../../src/chat/chat-server.js';
import type { ServerMessage } from '../../src/chat/protocol.js';
import { type ClientOptions, type RawData, WebSocket } from '../../src/index.js';

export const TIMEOUT = 5_000;

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

interface Waiter {
  match: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
}

export class ChatClient {
  readonly ws: WebSocket;
  private readonly queue: ServerMessage[] = [];
  private waiters: Waiter[] = [];
  /** Who is online, as a page would show it: the welcome's list, with each `users` change applied. */
  readonly people = new Set<string>();
  /** Bytes of each type of message received, and how many. */
  readonly received = new Map<string, { count: number; bytes: number }>();
  private watchers: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: RawData) => {
      const text = String(data);
      const message = JSON.parse(text) as ServerMessage;
      const stats = this.received.get(message.type) ?? { count: 0, bytes: 0 };
      this.received.set(message.type, {
        count: stats.count + 1,
        bytes: stats.bytes + Buffer.byteLength(text),
      });
      if (message.type === 'welcome') {
        this.people.clear();
        for (const name of message.users) this.people.add(name);
      } else if (message.type === 'users') {
        for (const name of message.remove) this.people.delete(name);
        for (const name of message.add) this.people.add(name);
      }
      for (const watch of this.watchers.splice(0)) watch();
      const waiter = this.waiters.find((w) => w.match(message));
      if (waiter === undefined) this.queue.push(message);
      else {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })),
    );
  }

  static open(url: string, options?: ClientOptions): Promise<ChatClient> {
    const ws = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new ChatClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends an object as JSON, or a string or bytes as they are. */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  /** The next message of `type` (and matching `where`), queued or yet to come; the others stay queued. */
  next<T extends ServerMessage['type']>(
    type: T,
    where: (m: Of<T>) => boolean = () => true,
    timeout = TIMEOUT,
  ): Promise<Of<T>> {
    const match = (m: ServerMessage) => m.type === type && where(m as Of<T>);
    const index = this.queue.findIndex(match);
    if (index !== -1) return Promise.resolve(this.queue.splice(index, 1)[0] as Of<T>);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { match, resolve: resolve as (m: ServerMessage) => void };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no "${type}" message within ${timeout} ms; queued: ${JSON.stringify(this.queue).slice(0, 500)}`,
          ),
        );
      }, timeout);
      waiter.resolve = (m) => {
        clearTimeout(timer);
        resolve(m as Of<T>);
      };
    });
  }

  /** Resolves once `people`, sorted, is `names` (at once if it is already). */
  peopleAre(names: string[], timeout = TIMEOUT): Promise<void> {
    const now = () => [...this.people].sort().join('\n') === [...names].sort().join('\n');
    if (now()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`people are ${JSON.stringify([...this.people])}, not ${JSON.stringify(names)}`)),
        timeout,
      );
      const watch = () => {
        if (!now()) {
          this.watchers.push(watch);
          return;
        }
        clearTimeout(timer);
        resolve();
      };
      this.watchers.push(watch);
    });
  }

  /** The messages received and not waited for, then forgets them. */
  drain(): ServerMessage[] {
    return this.queue.splice(0);
  }

  /** Joins and resolves with the welcome. */
  async join(room: string, name: string, session?: string): Promise<Of<'welcome'>> {
    this.send({ type: 'join', room, name, session });
    return this.next('welcome');
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * wskit/client compiled from src/client/ as ES modules (what the page loads from /client/), once per
 * test process, into a temp folder: the tests of the page never run a stale dist/.
 */
let builtClient: string | undefined;

export async function clientDir(): Promise<string> {
  if (builtClient !== undefined) return builtClient;
  const out = mkdtempSync(join(tmpdir(), 'wskit-client-'));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const args = ['--ignoreConfig', '--outDir', out, '--rootDir', `${root}src/client`, '--module', 'nodenext'];
  args.push('--target', 'es2022', '--lib', 'es2023,dom', '--types', '', '--strict', '--skipLibCheck');
  await promisify(execFile)(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, ...args, `${root}src/client/index.ts`],
    {
      timeout: 60_000,
    },
  );
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  builtClient = out;
  return out;
}

const servers = new Set<ChatServer>();
const clients = new Set<ChatClient>();

/** A chat server on a free port of 127.0.0.1, closed by cleanup(). */
export async function startChat(options: ChatServerOptions = {}): Promise<ChatServer> {
  const server = await ChatServer.listen({ port: 0, heartbeat: false, ...options });
  servers.add(server);
  return server;
}

export function wsUrl(server: ChatServer): string {
  return `ws://127.0.0.1:${server.port}/ws`;
}

/** A client connected to the server's endpoint, closed by cleanup(). */
export async function connect(server: ChatServer, options?: ClientOptions): Promise<ChatClient> {
  const client = await ChatClient.open(wsUrl(server), options);
  clients.add(client);
  return client;
}

export async function cleanup(): Promise<void> {
  for (const client of clients) client.ws.terminate();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts redis-server on a free port, without persistence; resolves once it accepts connections. */
export async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 5 s')), 5000);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (install Debian's redis-server): ${err.message}`));
    });
  });
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Builds dist/ (what `wskit chat` runs, with the page's wskit/client) when it is missing or older
 * than src/: `node scripts/test.mjs` builds before the tests, a test file run on its own may not have.
 */
export function ensureBuilt(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let built = 0;
  try {
    built = statSync(join(root, 'dist/cli/main.js')).mtimeMs;
  } catch {
    // not built
  }
  if (built >= newest(join(root, 'src'))) return;
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}
