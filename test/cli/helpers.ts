// Runs `node bin/wskit.js ...` as a child process and waits on its output lines, each wait with a
// timeout (no sleeps). Every child still running when a test ends is killed by stopAll().
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/wskit.js', import.meta.url));
const DEFAULT_TIMEOUT = 5_000;

export interface Exit {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type StreamName = 'stdout' | 'stderr';

interface Waiter {
  pattern: RegExp;
  resolve: (match: RegExpMatchArray) => void;
}

const running = new Set<CliProcess>();

export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  private readonly cursor: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly waiters: Record<StreamName, Waiter[]> = { stdout: [], stderr: [] };
  private readonly exited: Promise<Exit>;

  /**
   * `nodeArgs` go to node before the script (e.g. `--import` of a test fixture); `env` replaces the
   * child's environment (default: this process's).
   */
  constructor(
    args: readonly string[],
    nodeArgs: readonly string[] = [],
    options: { env?: NodeJS.ProcessEnv } = {},
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { stdio: 'pipe', env: options.env });
    running.add(this);
    const closed: Promise<void>[] = [];
    for (const name of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: this.child[name] });
      rl.on('line', (line) => this.onLine(name, line));
      closed.push(new Promise((resolve) => rl.once('close', resolve)));
    }
    // A test may end stdin before the child reads it; the child exiting first is not an error here.
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (status, signal) => {
        running.delete(this);
        Promise.all(closed).then(() =>
          resolve({
            status,
            signal,
            stdout: this.lines.stdout.map((l) => `${l}\n`).join(''),
            stderr: this.lines.stderr.map((l) => `${l}\n`).join(''),
          }),
        );
      });
    });
  }

  /** The next line of `stream` (after those already waited for) that matches `pattern`. */
  waitForLine(stream: StreamName, pattern: RegExp, timeout = DEFAULT_TIMEOUT): Promise<RegExpMatchArray> {
    const lines = this.lines[stream];
    while (this.cursor[stream] < lines.length) {
      const match = lines[this.cursor[stream]++].match(pattern);
      if (match !== null) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { pattern, resolve };
      const timer = setTimeout(() => {
        this.waiters[stream] = this.waiters[stream].filter((w) => w !== waiter);
        reject(new Error(`no ${stream} line matched ${pattern} within ${timeout} ms\n${this.transcript()}`));
      }, timeout);
      waiter.resolve = (match) => {
        clearTimeout(timer);
        resolve(match);
      };
      this.waiters[stream].push(waiter);
    });
  }

  /** The exit status and the whole output, once the process has exited. */
  exit(timeout = DEFAULT_TIMEOUT): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${timeout} ms\n${this.transcript()}`)),
        timeout,
      );
    });
    return Promise.race([this.exited, expired]).finally(() => clearTimeout(timer));
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  end(text?: string): void {
    this.child.stdin.end(text);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  private onLine(stream: StreamName, line: string): void {
    this.lines[stream].push(line);
    const waiters = this.waiters[stream];
    const index = waiters.findIndex((w) => w.pattern.test(line));
    if (index === -1) return;
    this.cursor[stream] = this.lines[stream].length;
    const [waiter] = waiters.splice(index, 1);
    waiter.resolve(line.match(waiter.pattern)!);
  }

  private transcript(): string {
    return `stdout:\n${this.lines.stdout.join('\n')}\nstderr:\n${this.lines.stderr.join('\n')}`;
  }
}

/** Starts `wskit ARGS`. */
export function wskit(...args: string[]): CliProcess {
  return new CliProcess(args);
}

/** Starts `wskit ARGS` with a module imported first (a fixture that changes the library's behaviour). */
export function wskitWithImport(fixture: string, ...args: string[]): CliProcess {
  return new CliProcess(args, ['--import', fixture]);
}

/** Runs `wskit ARGS` with `input` as standard input and waits for it to exit. */
export function runWskit(args: string[], input = '', timeout = DEFAULT_TIMEOUT): Promise<Exit> {
  const cli = new CliProcess(args);
  cli.end(input);
  return cli.exit(timeout);
}

/** Kills every child still running (call from afterEach). */
export function stopAll(): void {
  for (const cli of running) cli.kill('SIGKILL');
  running.clear();
}

/** Starts `wskit echo --port 0 ARGS` and resolves once it prints its URL. */
export async function startEcho(...args: string[]): Promise<{ cli: CliProcess; url: string }> {
  const cli = wskit('echo', '--port', '0', ...args);
  const [, url] = await cli.waitForLine('stdout', /listening on (ws:\/\/\S+)/);
  return { cli, url };
}

/**
 * Sends a hand-written upgrade request for `target` over raw TCP and resolves with the status code of
 * the response (101 or a refusal), then closes the socket.
 */
export async function rawUpgrade(port: number, target: string, timeout = DEFAULT_TIMEOUT): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  try {
    await once(socket, 'connect');
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let head = '';
    const status = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no response to ${target} within ${timeout} ms`)),
        timeout,
      );
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        const match = /^HTTP\/1\.1 (\d{3}) /.exec(head);
        if (match === null) return;
        clearTimeout(timer);
        resolve(Number(match[1]));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return status;
  } finally {
    socket.destroy();
  }
}
