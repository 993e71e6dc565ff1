#!/usr/bin/env node
// The connection-churn soak: `npm run soak [-- options]`. See docs/soak.md.
//
// Starts a wskit echo server (bench/soak/soak-server.mjs, from dist/) and load generators
// (bench/soak/churn-client.mjs), each keeping up to --concurrency connections going from its own
// 127.0.0.x source addresses: connect, handshake, one message and its echo, closing handshake, and
// again, until --connections connections have been made. The server's RSS and JS heap
// (process.memoryUsage() after a full GC) are taken at the start, after the warm-up (the first
// --warmup connections, once they have all closed), every --interval seconds while the rest run, and
// at the end (all closed). Steady state must be flat: the end figures must be within the tolerance of
// the warm-up ones. Loopback only; bounded by --time-limit.
//
// Options:
//   --connections N    connections in all (default 100000)
//   --concurrency C    connections at once per load generator (default 2000)
//   --generators G     load-generator processes (default 2)
//   --opening O        connections in their opening handshake at once per generator (default 256)
//   --sources S        source addresses, 127.0.0.2 onwards, shared out among the generators (default 4)
//   --warmup W         connections before the baseline (default 20% of N)
//   --interval S       seconds between samples while running (default 5)
//   --rss-tolerance P  allowed RSS growth, end against warm-up: P percent or --rss-slack MiB,
//   --rss-slack M      whichever is larger (defaults 25 and 16)
//   --heap-tolerance P allowed heapUsed growth, likewise (defaults 10 and 2)
//   --heap-slack M
//   --time-limit S     give up (exit 1) after S seconds (default 900)
// Exit status: 0 flat and every connection clean, 1 growth over the tolerance or failed
// connections, 2 usage or setup error (dist/ not built, file-descriptor limit too low).
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const MiB = 1024 * 1024;

const DEFAULTS = {
  connections: 100_000,
  concurrency: 2000,
  generators: 2,
  opening: 256,
  sources: 4,
  warmup: undefined,
  interval: 5,
  'rss-tolerance': 25,
  'rss-slack': 16,
  'heap-tolerance': 10,
  'heap-slack': 2,
  'time-limit': 900,
};

function usage(message) {
  console.error(
    `soak: ${message}\nusage: node bench/soak/soak.mjs [--connections N] [--concurrency C] ` +
      '[--generators G] [--opening O] [--sources S] [--warmup W] [--interval S] [--rss-tolerance P] [--rss-slack MiB] ' +
      '[--heap-tolerance P] [--heap-slack MiB] [--time-limit S]',
  );
  process.exit(2);
}

function parseOptions(argv) {
  if (argv.includes('--help')) {
    // The comment at the top of this file.
    const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
    const end = text.findIndex((l) => !l.startsWith('//') && !l.startsWith('#!'));
    console.log(
      text
        .slice(1, end)
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n'),
    );
    process.exit(0);
  }
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(name in DEFAULTS)) usage(`unknown option ${argv[i]}`);
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value < 0) usage(`${argv[i]} needs a number ≥ 0`);
    options[name] = value;
  }
  options.warmup ??= Math.round(options.connections / 5);
  for (const name of ['connections', 'concurrency', 'generators', 'opening', 'sources']) {
    if (!Number.isInteger(options[name]) || options[name] < 1) usage(`--${name} needs an integer ≥ 1`);
  }
  if (options.sources > 250) usage('--sources: at most 250 (127.0.0.2 to 127.0.0.251)');
  if (options.generators > options.sources) usage('--generators: at most one per source address');
  if (!(options.warmup >= 1 && options.warmup < options.connections)) {
    usage('--warmup must be at least 1 and less than --connections');
  }
  return options;
}

/** The soft limit on open files of this process (Node raises it to the hard limit as it starts). */
function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s+/)[3];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

function localPortCount() {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return Number(high) - Number(low) + 1;
  } catch {
    return 28_000;
  }
}

/** Sends a request to a child and resolves with its first answer of type `type` (or `match`). */
function ask(child, request, type, match = () => true, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no '${type}' answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message.type !== type || !match(message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    if (request !== null) child.send(request);
  });
}

function startChild(script, args, execArgv = []) {
  const child = fork(path.join(HERE, script), args, {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('exit', (code, signal) => {
    if (!child.expectedExit) {
      console.error(`soak: ${script} exited unexpectedly (${signal ?? code})`);
      process.exit(1);
    }
  });
  return child;
}

function mib(bytes) {
  return (bytes / MiB).toFixed(1);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    usage(
      'dist/ is missing: build it first (npx tsc -p tsconfig.build.json, or run it through npm run soak)',
    );
  }
  const serverFds = options.generators * options.concurrency + 100;
  const limit = openFileLimit();
  if (limit < serverFds) {
    usage(
      `the open-file limit is ${limit}, the server needs about ${serverFds}: raise it (ulimit -n 200000, ` +
        'as bench/soak/soak.sh does) or lower --concurrency',
    );
  }
  const perSource = Math.ceil(options.connections / options.sources);
  const ports = localPortCount();
  if (perSource > ports * 0.9) {
    usage(`${perSource} connections per source address, with ${ports} local ports: raise --sources`);
  }
  const deadline = setTimeout(() => {
    console.error(`soak: not finished after ${options['time-limit']} s: giving up`);
    process.exit(1);
  }, options['time-limit'] * 1000);
  deadline.unref();

  const began = performance.now();
  const server = startChild('soak-server.mjs', [], ['--expose-gc']);
  const { port } = await ask(server, null, 'listening');
  let sampleId = 0;
  const sample = async () => {
    const id = ++sampleId;
    const answer = await ask(server, { type: 'sample', id }, 'sample', (m) => m.id === id);
    return { seconds: (performance.now() - began) / 1000, ...answer };
  };
  /** Waits until the server has no connection left (they close a little after the clients finish). */
  const idle = async () => {
    const until = performance.now() + 30_000;
    for (;;) {
      const s = await sample();
      if (s.open === 0) return s;
      if (performance.now() > until) throw new Error(`${s.open} connections still open 30 s after the churn`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const cpus = os.cpus();
  console.log(
    `soak: ${options.connections} connections, ${options.generators} load generators x ${options.concurrency} ` +
      `at once, ${options.sources} source addresses; node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? '?'}`,
  );
  const samples = [];
  const record = (label, s) => {
    samples.push({ label, ...s });
    console.log(
      `  ${label.padEnd(10)} t=${s.seconds.toFixed(1).padStart(6)} s  made ${String(made).padStart(7)}  ` +
        `open ${String(s.open).padStart(5)}  rss ${mib(s.memory.rss).padStart(6)} MiB  heapUsed ` +
        `${mib(s.memory.heapUsed).padStart(6)} MiB  heapTotal ${mib(s.memory.heapTotal).padStart(6)} MiB  ` +
        `external ${mib(s.memory.external).padStart(5)} MiB`,
    );
  };
  let made = 0;
  record('start', await sample());

  const generators = [];
  for (let g = 0; g < options.generators; g++) {
    const mine = [];
    for (let s = g; s < options.sources; s += options.generators) mine.push(`127.0.0.${2 + s}`);
    const child = startChild('churn-client.mjs', [
      String(port),
      String(options.concurrency),
      mine.join(','),
      String(options.opening),
    ]);
    child.progress = 0;
    child.on('message', (m) => {
      if (m.type === 'progress') child.progress = m.done;
    });
    await ask(child, null, 'ready');
    generators.push(child);
  }
  const failures = {};
  const phase = async (count) => {
    const shares = generators.map(
      (_, g) => Math.floor(count / generators.length) + (g < count % generators.length ? 1 : 0),
    );
    const results = await Promise.all(
      generators.map((child, g) =>
        ask(child, { type: 'run', count: shares[g] }, 'done', () => true, options['time-limit'] * 1000),
      ),
    );
    for (const r of results) {
      made += r.count;
      for (const [why, n] of Object.entries(r.failures)) failures[why] = (failures[why] ?? 0) + n;
    }
  };

  await phase(options.warmup);
  const warm = await idle();
  record('warm-up', warm);

  const base = made;
  const timer = setInterval(async () => {
    const s = await sample();
    made = base + generators.reduce((sum, child) => sum + child.progress, 0);
    record('running', s);
  }, options.interval * 1000);
  const mainStart = performance.now();
  await phase(options.connections - options.warmup);
  clearInterval(timer);
  made = options.connections;
  const churnSeconds = (performance.now() - mainStart) / 1000;
  const end = await idle();
  record('end', end);

  for (const child of generators) {
    child.expectedExit = true;
    child.send({ type: 'exit' });
  }
  server.expectedExit = true;
  server.send({ type: 'close' });

  const check = (name, key, percent, slackMiB) => {
    const allowed = Math.max((warm.memory[key] * percent) / 100, slackMiB * MiB);
    const growth = end.memory[key] - warm.memory[key];
    const ok = growth <= allowed;
    console.log(
      `  ${name}: warm-up ${mib(warm.memory[key])} MiB, end ${mib(end.memory[key])} MiB, growth ` +
        `${mib(growth)} MiB, allowed ${mib(allowed)} MiB (${percent}% or ${slackMiB} MiB): ${ok ? 'flat' : 'GREW'}`,
    );
    return { warmUp: warm.memory[key], end: end.memory[key], growth, allowed, ok };
  };
  const rss = check('RSS', 'rss', options['rss-tolerance'], options['rss-slack']);
  const heap = check('heapUsed', 'heapUsed', options['heap-tolerance'], options['heap-slack']);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  const total = (performance.now() - began) / 1000;
  console.log(
    `  connections: ${options.connections} made, ${end.accepted} accepted by the server, ${failed} failed` +
      `${failed > 0 ? ` ${JSON.stringify(failures)}` : ''}; ${Math.round((options.connections - options.warmup) / churnSeconds)}` +
      ` connections/s after the warm-up; ${total.toFixed(1)} s in all`,
  );
  const ok = rss.ok && heap.ok && failed === 0 && end.accepted === options.connections;
  console.log(
    `RESULT ${JSON.stringify({
      ok,
      connections: options.connections,
      accepted: end.accepted,
      failed,
      failures,
      seconds: Number(total.toFixed(1)),
      rss,
      heapUsed: heap,
      samples: samples.map((s) => ({
        label: s.label,
        seconds: Number(s.seconds.toFixed(1)),
        open: s.open,
        rss: s.memory.rss,
        heapUsed: s.memory.heapUsed,
        heapTotal: s.memory.heapTotal,
        external: s.memory.external,
      })),
    })}`,
  );
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(`soak: ${error.message}`);
  process.exit(1);
});
