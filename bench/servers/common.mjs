// Shared by the benchmark servers: command-line arguments, the peers folder, the ready line, the
// memory report.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

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

/**
 * On SIGUSR2, prints one line `STATS {"open":N,"rss":...,"heapUsed":...,...}`: the open connections
 * (`openConnections()`), process.memoryUsage() taken after two full garbage collections, and `young`:
 * the resident bytes of V8's young generation (new space and new large objects). The
 * servers run with node's default flags; `gc` is reached at the first request by turning V8's
 * --expose-gc on at run time (it only makes the function available) and taking it from a new context.
 * scripts/bench.mjs uses it for the idle-connections row.
 */
export function reportStatsOnSignal(openConnections) {
  let gc;
  process.on('SIGUSR2', () => {
    if (gc === undefined) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc');
    }
    gc();
    gc();
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    // The young generation's resident pages: V8 grows it (up to 2 x 16 MiB semi-spaces by default)
    // while many objects survive, as during a burst of handshakes, and keeps it grown while idle.
    let young = 0;
    for (const space of v8.getHeapSpaceStatistics()) {
      if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
        young += space.physical_space_size;
    }
    const stats = { open: openConnections(), rss, heapTotal, heapUsed, external, arrayBuffers, young };
    console.log(`STATS ${JSON.stringify(stats)}`);
  });
}
