// Where the server fuzz target's echo servers run: in this process (the test suite), or in a child
// process with an IPC channel (npm run fuzz), which shows a crash and the servers' RSS.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type EchoServers, startEchoServers } from './echo-servers.js';

export interface Host {
  plain: number[];
  deflate: number[];
  /** Violations reported since the last call, and whether the process died. */
  drain(): string[];
  stats(): Promise<{ rss: number; connections: number } | null>;
  stop(): Promise<void>;
}

export async function inProcess(seed: number): Promise<Host> {
  const violations: string[] = [];
  const servers: EchoServers = await startEchoServers(seed, (m) => violations.push(m));
  return {
    plain: servers.plain,
    deflate: servers.deflate,
    drain: () => violations.splice(0),
    stats: async () => ({ rss: process.memoryUsage().rss, connections: servers.connections() }),
    stop: () => servers.close(),
  };
}

export async function childProcess(seed: number): Promise<Host> {
  const script = fileURLToPath(new URL('./echo-server-child.ts', import.meta.url));
  const child: ChildProcess = fork(script, [String(seed)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const violations: string[] = [];
  let waiting: ((m: { rss: number; connections: number } | null) => void) | null = null;
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (!stopping) violations.push(`the server process exited (code ${code}, signal ${signal})`);
    waiting?.(null);
  });
  const ready = await new Promise<{ plain: number[]; deflate: number[] }>((resolve, reject) => {
    child.on('message', (m: { type: string; message?: string; rss?: number; connections?: number }) => {
      if (m.type === 'ready') resolve(m as unknown as { plain: number[]; deflate: number[] });
      else if (m.type === 'violation') violations.push(m.message ?? '');
      else if (m.type === 'stats') {
        waiting?.({ rss: m.rss ?? 0, connections: m.connections ?? 0 });
        waiting = null;
      }
    });
    child.once('exit', () =>
      reject(new Error(`the server process exited before it was ready: ${violations.join('; ')}`)),
    );
  });
  return {
    plain: ready.plain,
    deflate: ready.deflate,
    drain: () => violations.splice(0),
    stats: () =>
      child.exitCode !== null
        ? Promise.resolve(null)
        : new Promise((resolve) => {
            waiting = resolve;
            child.send({ type: 'stats' });
          }),
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
