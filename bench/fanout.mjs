#!/usr/bin/env node
// Fan-out benchmark: how many published messages per second reach their subscribers, with 1,000 and
// 10,000 subscribers to one topic, in one server process and across two server processes joined by
// Redis. docs/pubsub.md has the method and the figures.
//
//   node bench/fanout.mjs [--subscribers 1000,10000] [--only local,redis] [--modes burst,turn]
//                         [--history off,on] [--reps 3] [--duration 5] [--warmup 1] [--size 64] [--quick]
//
// --history on: the topic is durable (the server's `durable` option, 1,000 messages retained): every
// message is stored in the history and given an offset before it is delivered (in memory, or by one
// Lua script in Redis). Default: off.
//
// Two ways of publishing: "burst", as many messages as the flow window allows in one turn of the
// event loop (a busy feed: the frames for one connection leave in one write), and "turn", one message
// per turn (a chat server relaying what arrives: one write per subscriber per message).
//
// Needs dist/ (npm run build), ioredis and redis-server for the Redis rows, taskset for pinning.
// The same file runs as the coordinator (no role argument), as a server ("server") and as the clients
// ("clients"); they talk over IPC.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const DIST = new URL('../dist/index.js', import.meta.url);
const TOPIC = 'bench';
/** Deliveries the publisher may be ahead of the clients: keeps every pipe full, bounds the memory. */
const WINDOW_DELIVERIES = 500_000;
/** How often the clients report what they received (ms). */
const REPORT_EVERY = 25;
const TIMEOUT = 60_000;
/** The unit of the CPU times in /proc/PID/stat. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

const role = process.argv[2];
if (role === 'server') await server(parseFlags(process.argv.slice(3)));
else if (role === 'clients') await clients(parseFlags(process.argv.slice(3)));
else await coordinator(parseFlags(process.argv.slice(2)));

function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) usage(`unexpected argument ${arg}`);
    const name = arg.slice(2);
    if (name === 'quick' || name === 'help') flags[name] = true;
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else usage(`--${name} needs a value`);
  }
  return flags;
}

function usage(problem) {
  console.error(
    `${problem ? `fanout: ${problem}\n` : ''}usage: node bench/fanout.mjs [--subscribers 1000,10000] [--only local,redis]\n` +
      '         [--modes burst,turn] [--history off,on] [--reps 3] [--duration 5] [--warmup 1] [--size 64] [--quick]',
  );
  process.exit(problem ? 2 : 0);
}

// ---------------------------------------------------------------------------------------------------
// The coordinator: starts Redis, the servers and the clients for each row, paces the publisher, measures.

async function coordinator(flags) {
  if (flags.help) usage();
  if (!existsSync(fileURLToPath(DIST))) {
    console.error('fanout: dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const quick = flags.quick === true;
  const subscribers = (flags.subscribers ?? '1000,10000').split(',').map(Number);
  const only = (flags.only ?? 'local,redis').split(',');
  const modes = (flags.modes ?? 'burst,turn').split(',');
  for (const m of modes) if (m !== 'burst' && m !== 'turn') usage(`unknown mode ${m}`);
  for (const o of only) if (o !== 'local' && o !== 'redis') usage(`unknown setup ${o}`);
  const histories = (flags.history ?? 'off').split(',');
  for (const h of histories) if (h !== 'off' && h !== 'on') usage(`--history is off, on or off,on; got ${h}`);
  const reps = Number(flags.reps ?? (quick ? 1 : 3));
  const duration = Number(flags.duration ?? (quick ? 2 : 5));
  const warmup = Number(flags.warmup ?? 1);
  const size = Number(flags.size ?? 64);
  if (size > 125) usage('--size is at most 125 (frames with a 2-byte header)');
  const pins = planCores();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    loadBefore: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
  console.log(
    `fanout: ${machine.cores} cores (${machine.cpu}), node ${machine.node}, load average ${machine.loadBefore}`,
  );
  console.log(`fanout: ${pins.describe}; ${size}-byte messages; ${reps} × ${duration} s after ${warmup} s`);

  let redis = null;
  const children = new Set();
  const cleanup = () => {
    for (const child of children) child.kill('SIGKILL');
    redis?.kill('SIGKILL');
  };
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));
  try {
    if (only.includes('redis')) {
      redis = await startRedis(pins.redis);
      console.log(`fanout: ${redis.version} on port ${redis.port}`);
    }
    const rows = [];
    for (const mode of modes) {
      for (const count of subscribers) {
        for (const setup of only) {
          for (const history of histories) {
            const results = [];
            for (let rep = 1; rep <= reps; rep++) {
              const run = { setup, mode, count, size, duration, warmup, redis, pins, children, history };
              const result = await runOnce(run);
              console.log(
                `  ${mode}, ${count} subscribers, ${label(setup)}, history ${history}, run ${rep}: ${format(result.rate)} deliveries/s` +
                  ` (${format(result.rate / count)} messages/s, ${result.cpuPerDelivery.toFixed(2)} µs of server CPU each;` +
                  ` CPU: servers ${result.serverCpu}, clients ${result.clientCpu}${result.redisCpu && `, Redis ${result.redisCpu}`})`,
              );
              results.push(result);
            }
            const middle = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
            results.sort((a, b) => a.rate - b.rate);
            rows.push({
              count,
              setup,
              mode,
              history,
              median: results[Math.floor(results.length / 2)],
              cpuPerDelivery: middle(results.map((r) => r.cpuPerDelivery)),
              results,
            });
          }
        }
      }
    }
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    console.log(
      '| publishing | subscribers | servers | history | deliveries/s (median) | runs | messages published/s | ' +
        'server CPU per delivery (median) | CPU of the median run: servers; clients; Redis |',
    );
    console.log('|---|---:|---|---|---:|---|---:|---:|---|');
    for (const { count, setup, mode, history, median, cpuPerDelivery, results } of rows) {
      const cpu = [median.serverCpu, median.clientCpu, median.redisCpu].filter((c) => c !== '').join('; ');
      console.log(
        `| ${mode === 'burst' ? 'bursts' : 'one per turn'} | ${count.toLocaleString('en')} | ${label(setup)} | ${history} | ` +
          `${format(median.rate)} | ${results.map((r) => format(r.rate)).join(', ')} | ` +
          `${format(median.rate / count)} | ${cpuPerDelivery.toFixed(2)} µs | ${cpu} |`,
      );
    }
  } finally {
    cleanup();
  }
}

function label(setup) {
  return setup === 'local' ? '1 process' : '2 processes + Redis';
}

function format(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

/**
 * Cores: the clients get the last one, Redis the one before when there are 4 or more (else it shares
 * the clients'), the servers the others. With 2 cores: the servers share core 0, the clients and
 * Redis core 1, so both rows give the servers the same single core.
 */
function planCores() {
  const n = availableParallelism();
  const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  if (!taskset || n < 2) {
    return {
      servers: [],
      clients: undefined,
      redis: undefined,
      describe: 'not pinned (no taskset or 1 core)',
    };
  }
  const clientsCore = n - 1;
  const redisCore = n >= 4 ? n - 2 : n - 1;
  const servers = Array.from({ length: n >= 4 ? n - 2 : n - 1 }, (_, i) => i);
  return {
    servers,
    clients: clientsCore,
    redis: redisCore,
    describe: `pinned with taskset: servers on core ${servers.join(',')}, clients on ${clientsCore}, Redis on ${redisCore}`,
  };
}

function spawnPinned(command, args, core, options) {
  if (core === undefined) return spawn(command, args, options);
  return spawn('taskset', ['-c', String(core), command, ...args], options);
}

function startRole(roleName, args, core, children) {
  const child = spawnPinned(process.execPath, [FILE, roleName, ...args], core, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `child` of type `type` (rejects if the child exits first, or after TIMEOUT). */
function message(child, type) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${type}' within ${TIMEOUT} ms`)), TIMEOUT);
    const onMessage = (m) => m.type === type && done(null, m);
    const onExit = (code, signal) => done(new Error(`a ${type} process exited (${code ?? signal})`));
    function done(err, m) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function request(child, op, type = op) {
  const reply = message(child, type);
  child.send({ op });
  return reply;
}

async function runOnce({ setup, mode, count, size, duration, warmup, redis, pins, children, history }) {
  const serverCount = setup === 'local' ? 1 : 2;
  const servers = [];
  const all = [];
  for (let i = 0; i < serverCount; i++) {
    const share = Math.floor(count / serverCount) + (i < count % serverCount ? 1 : 0);
    const args = ['--expect', String(share), '--size', String(size), '--mode', mode];
    if (setup === 'redis') args.push('--redis', `redis://127.0.0.1:${redis.port}`);
    if (history === 'on') args.push('--history', 'on');
    servers.push(startRole('server', args, pins.servers[i % Math.max(1, pins.servers.length)], children));
  }
  all.push(...servers);
  try {
    const ports = (await Promise.all(servers.map((s) => message(s, 'listening')))).map((m) => m.port);
    const subscribed = Promise.all(servers.map((s) => message(s, 'subscribed')));
    const client = startRole(
      'clients',
      ['--ports', ports.join(','), '--count', String(count)],
      pins.clients,
      children,
    );
    all.push(client);
    await message(client, 'connected');
    await subscribed;

    const frame = 2 + size;
    const publisher = servers[0];
    const ahead = Math.max(8, Math.ceil(WINDOW_DELIVERIES / count));
    let delivered = 0;
    let target = 0;
    client.on('message', (m) => {
      if (m.type !== 'count') return;
      delivered = m.bytes / frame;
      const next = Math.floor(delivered / count) + ahead;
      if (next > target) {
        target = next;
        publisher.send({ op: 'to', seq: target });
      }
    });
    target = ahead;
    publisher.send({ op: 'to', seq: target });
    client.send({ op: 'report' });

    await delay(warmup * 1000);
    const cpu0 = await Promise.all(all.map((p) => request(p, 'cpu')));
    const redis0 = redis === null ? 0 : procCpuSeconds(redis.pid);
    const d0 = delivered;
    const t0 = performance.now();
    await delay(duration * 1000);
    const d1 = delivered;
    const t1 = performance.now();
    const cpu1 = await Promise.all(all.map((p) => request(p, 'cpu')));
    const redisUsed = redis === null ? 0 : procCpuSeconds(redis.pid) - redis0;
    const elapsed = (t1 - t0) / 1000;
    const used = (i) => (cpu1[i].user - cpu0[i].user + cpu1[i].system - cpu0[i].system) / 1e6;
    const percent = (seconds, digits = 0) => `${((100 * seconds) / elapsed).toFixed(digits)}%`;
    const stats = await Promise.all(servers.map((s) => request(s, 'stats')));
    const dropped = stats.reduce((n, s) => n + s.dropped, 0);
    if (dropped > 0) console.log(`  (${dropped} messages dropped for slow subscribers)`);
    const serverSeconds = servers.reduce((sum, _, i) => sum + used(i), 0);
    return {
      rate: (d1 - d0) / elapsed,
      // What a delivery costs the servers, whatever share of the core they got on a busy machine.
      cpuPerDelivery: (1e6 * serverSeconds) / (d1 - d0),
      serverCpu: servers.map((_, i) => percent(used(i))).join(' + '),
      clientCpu: percent(used(serverCount)),
      redisCpu: setup === 'redis' ? percent(redisUsed, 1) : '',
    };
  } finally {
    await Promise.all(
      all.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}

/** CPU time of a process from /proc (Linux), in seconds; 0 where there is no /proc. */
function procCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0; // not Linux
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(core) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawnPinned('redis-server', args, core, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), TIMEOUT);
    child.once('error', (err) =>
      reject(new Error(`cannot run redis-server (apt-get install redis-server): ${err.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log}`)));
    child.stdout.on('data', (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve();
      }
    });
  });
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
    .stdout.split(' ')
    .slice(0, 3)
    .join(' ');
  child.port = port;
  child.version = version;
  return child;
}

// ---------------------------------------------------------------------------------------------------
// A server: one WebSocketServer, every connection subscribed to the topic; publishes when told to.

async function server(flags) {
  const { RedisBroker, WebSocketServer } = await import(DIST.href);
  const expect = Number(flags.expect);
  const payload = Buffer.alloc(Number(flags.size), 0x61);
  const broker = flags.redis === undefined ? undefined : new RedisBroker({ url: flags.redis });
  if (broker !== undefined) await broker.ready();
  // No heartbeat (the clients never answer pings), no compression: the bytes a client counts are frames.
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    broker,
    heartbeat: false,
    perMessageDeflate: false,
    // History on: the topic is durable; every publish is stored (and given an offset) before delivery.
    durable: flags.history === 'on' ? { history: { maxCount: 1000, maxAge: 60_000 } } : undefined,
  });
  wss.on('brokerError', (err) => console.error(`fanout server: ${err.message}`));
  wss.on('connection', (ws) => {
    ws.subscribe(TOPIC);
    if (wss.subscriberCount(TOPIC) === expect) {
      (broker?.ready() ?? Promise.resolve()).then(() => process.send({ type: 'subscribed' }));
    }
  });
  wss.once('listening', () => process.send({ type: 'listening', port: wss.address().port }));

  let published = 0;
  let target = 0;
  let pumping = false;
  // Publishes up to `target`: all at once ("burst"), or one message per turn of the event loop.
  const burst = flags.mode === 'burst';
  const pump = () => {
    do {
      wss.publish(TOPIC, payload);
      published++;
    } while (burst && published < target);
    pumping = published < target;
    if (pumping) setImmediate(pump);
  };
  process.on('message', (m) => {
    if (m.op === 'to') {
      target = Math.max(target, m.seq);
      if (!pumping && published < target) pump();
    } else if (m.op === 'cpu') {
      process.send({ type: 'cpu', ...process.cpuUsage() });
    } else if (m.op === 'stats') {
      process.send({ type: 'stats', dropped: wss.droppedMessages, published });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------
// The clients: raw TCP connections that complete the opening handshake, then only count bytes.

async function clients(flags) {
  const ports = flags.ports.split(',').map(Number);
  const count = Number(flags.count);
  const request =
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  let bytes = 0;
  const sockets = [];
  const countBytes = (chunk) => {
    bytes += chunk.length;
  };
  const open = (port) =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      let head = '';
      const onHead = (chunk) => {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        if (!head.startsWith('HTTP/1.1 101'))
          return reject(new Error(`handshake refused: ${head.slice(0, 80)}`));
        socket.off('data', onHead);
        socket.on('data', countBytes);
        bytes += head.length - end - 4;
        resolve();
      };
      socket.on('data', onHead);
      socket.once('error', reject);
      socket.write(request);
    });
  // A few hundred handshakes at a time: the listen backlog is 511.
  const BATCH = 250;
  for (let i = 0; i < count; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) batch.push(open(ports[j % ports.length]));
    await Promise.all(batch);
  }
  process.send({ type: 'connected' });
  process.on('message', (m) => {
    if (m.op === 'report') setInterval(() => process.send({ type: 'count', bytes }), REPORT_EVERY);
    else if (m.op === 'cpu') process.send({ type: 'cpu', ...process.cpuUsage() });
  });
  process.on('disconnect', () => process.exit(0));
}
