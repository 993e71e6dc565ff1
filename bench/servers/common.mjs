// Shared by the benchmark servers: command-line arguments, the peers folder, the ready line.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const MiB = 1024 * 1024;
/** Largest message every server accepts: the stream row sends 16 MiB. */
export const MAX_PAYLOAD = 256 * MiB;
export const HOST = '127.0.0.1';

/** `node X-server.mjs PORT [--deflate]` */
export function parseArgs(name) {
  const args = process.argv.slice(2);
  const port = Number(args[0]);
  const unknown = args.slice(1).filter((a) => a !== '--deflate');
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || unknown.length > 0) {
    console.error(`usage: node ${name} PORT [--deflate]`);
    process.exit(2);
  }
  return { port, deflate: args.includes('--deflate') };
}

/** `require` for the peers installed by scripts/bench.mjs into bench/.peers (never the package's own). */
export function requirePeer() {
  const manifest = fileURLToPath(new URL('../.peers/package.json', import.meta.url));
  if (!existsSync(manifest)) {
    console.error('bench/.peers is missing: run `npm run bench` once, it installs the peer servers');
    process.exit(2);
  }
  return createRequire(manifest);
}

/** Echo on any path; /broadcast sends every message to every client on /broadcast, the sender included. */
export function isBroadcastPath(url) {
  return url === '/broadcast' || url.startsWith('/broadcast?');
}

/** The line scripts/bench.mjs waits for; it also records what was measured. */
export function ready(description) {
  console.log(`${description} node ${process.version} pid ${process.pid} listening`);
}

export function exitOnSignals(onExit) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      onExit?.();
      process.exit(0);
    });
  }
}
