#!/usr/bin/env node
// What permessage-deflate costs a server, per connection: RSS of a fresh server process holding 10,000
// connections (just opened, then after one compressed message each way), and under load (N connections
// each sending compressed messages: peak RSS, CPU per message); for wskit and ws (the dev dependency),
// without deflate, with each one's defaults, and with context takeover at two window / memLevel sizes.
// Then zlib figures behind wskit's defaults (level, memLevel, syncLimit, threshold).
//
//   npm run build && node bench/deflate-memory.mjs [--idle 10000] [--load 1000] [--messages 20] [--json FILE]
//
// Each server and each client pool runs in a child process of its own (through `sh -c 'ulimit -n ...'`,
// so that each stays under the open-files limit); loopback only. Results in docs/permessage-deflate.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { constants, createDeflateRaw, deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';

const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const FILES = 20000;
const KiB = 1024;
const MiB = 1024 * KiB;

/** The servers measured: wskit's and ws's options for each configuration. */
const SCENARIOS = [
  { impl: 'wskit', name: 'no deflate', options: false },
  { impl: 'wskit', name: 'deflate, default (no takeover)', options: true },
  {
    impl: 'wskit',
    name: 'takeover, window 15, memLevel 8',
    options: { serverNoContextTakeover: false, clientNoContextTakeover: false },
  },
  {
    impl: 'wskit',
    name: 'takeover, window 10, memLevel 4',
    options: {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 10,
      memLevel: 4,
    },
  },
  { impl: 'ws', name: 'no deflate', options: false },
  { impl: 'ws', name: 'deflate, default (takeover, window 15, memLevel 8)', options: true },
  {
    impl: 'ws',
    name: 'no takeover',
    options: { serverNoContextTakeover: true, clientNoContextTakeover: true },
  },
  {
    impl: 'ws',
    name: 'takeover, window 10, memLevel 4',
    options: { serverMaxWindowBits: 10, clientMaxWindowBits: 10, zlibDeflateOptions: { memLevel: 4 } },
  },
];

/** A JSON-ish message of about `n` bytes, like an application's (compresses about 4:1 at level 1). */
function message(n, seed) {
  const items = [];
  let size = 0;
  for (let i = 0; size < n; i++) {
    const item = `{"id":${seed * 1000 + i},"name":"user-${(seed * 7919 + i * 104729) % 100000}","score":${(i * 37) % 1000},"online":${i % 3 === 0}}`;
    items.push(item);
    size += item.length + 1;
  }
  return `{"type":"update","seq":${seed},"items":[${items.join(',')}]}`.slice(0, n);
}

// ---- child: a server --------------------------------------------------------------------------------

async function runServer(impl, options) {
  const { WebSocketServer } =
    impl === 'ws'
      ? await import('ws')
      : await import(DIST).catch(() => fail('dist/ missing: run `npm run build`'));
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: options,
    maxPayload: 64 * MiB,
    ...(impl === 'wskit' ? { heartbeat: false } : {}),
  });
  let received = 0;
  server.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      received++;
      ws.send(data, { binary: isBinary });
    });
    ws.on('error', () => {});
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const cpu0 = process.cpuUsage();
  process.on('message', (m) => {
    if (m.type === 'measure') {
      global.gc();
      global.gc();
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage(cpu0);
      process.send({
        type: 'measured',
        rss: mem.rss,
        external: mem.external,
        heapUsed: mem.heapUsed,
        maxRss: process.resourceUsage().maxRSS * 1024,
        cpu: cpu.user + cpu.system,
        received,
        clients: server.clients.size,
      });
    } else if (m.type === 'exit') {
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: server.address().port });
}

// ---- child: a pool of clients ------------------------------------------------------------------------

/**
 * Clients that cost the measurement nothing: raw TCP, a browser's offer ("permessage-deflate;
 * client_max_window_bits"), and messages compressed once, ahead of time (without context: valid whatever
 * the server answered), masked once. Echoes are only counted, not inflated.
 */
async function runClients() {
  const VARIANTS = 20;
  const key = randomBytes(4);
  const framesByAnswer = new Map();
  /** The masked frames of the message variants, compressed as `answer` allows. */
  const framesFor = (answer) => {
    const bits = answer === undefined ? 0 : Number(/client_max_window_bits=(\d+)/.exec(answer)?.[1] ?? 15);
    let frames = framesByAnswer.get(bits);
    if (frames !== undefined) return frames;
    frames = [];
    for (let k = 0; k < VARIANTS; k++) {
      let payload = Buffer.from(message(2 * KiB, k));
      if (bits > 0) {
        const options = { level: 6, windowBits: Math.max(9, bits), finishFlush: constants.Z_SYNC_FLUSH };
        payload = deflateRawSync(payload, options).subarray(0, -4);
      }
      const header = Buffer.from([
        bits > 0 ? 0xc1 : 0x81,
        0x80 | 126,
        payload.length >> 8,
        payload.length & 0xff,
      ]);
      const masked = Buffer.from(payload);
      for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
      frames.push(Buffer.concat([header, key, masked]));
    }
    framesByAnswer.set(bits, frames);
    return frames;
  };
  const connections = [];
  const openOne = (port) =>
    new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const conn = { socket, frames: null, buffer: Buffer.alloc(0), done: null };
      socket.setNoDelay(true);
      socket.on('error', reject);
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n',
      );
      socket.on('data', (chunk) => {
        conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
        if (conn.frames === null) {
          const end = conn.buffer.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = conn.buffer.subarray(0, end).toString('latin1');
          if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head.split('\r\n')[0]));
          conn.frames = framesFor(/^sec-websocket-extensions:\s*(.*)$/im.exec(head)?.[1]);
          conn.buffer = conn.buffer.subarray(end + 4);
          resolve(conn);
        }
        // Count the server's frames (unmasked); a data frame with FIN ends an echo.
        for (;;) {
          const b = conn.buffer;
          if (b.length < 2) break;
          let length = b[1] & 0x7f;
          let at = 2;
          if (length === 126) {
            if (b.length < 4) break;
            length = b.readUInt16BE(2);
            at = 4;
          } else if (length === 127) {
            if (b.length < 10) break;
            length = Number(b.readBigUInt64BE(2));
            at = 10;
          }
          if (b.length < at + length) break;
          const opcode = b[0] & 0x0f;
          conn.buffer = b.subarray(at + length);
          if ((b[0] & 0x80) !== 0 && opcode < 8) {
            const done = conn.done;
            conn.done = null;
            done?.();
          }
        }
      });
    });
  const roundTrip = (conn, k) =>
    new Promise((resolve) => {
      conn.done = resolve;
      conn.socket.write(conn.frames[k % VARIANTS]);
    });
  process.on('message', async (m) => {
    if (m.type === 'open') {
      const batch = 250;
      for (let at = 0; at < m.count; at += batch) {
        const n = Math.min(batch, m.count - at);
        connections.push(...(await Promise.all(Array.from({ length: n }, () => openOne(m.port)))));
      }
      process.send({ type: 'opened', count: connections.length });
    } else if (m.type === 'exchange') {
      const started = process.hrtime.bigint();
      await Promise.all(
        connections.map(async (conn, i) => {
          for (let k = 0; k < m.messages; k++) await roundTrip(conn, i + k);
        }),
      );
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.send({ type: 'exchanged', ms, messages: connections.length * m.messages });
    } else if (m.type === 'exit') {
      for (const conn of connections) conn.socket.destroy();
      process.exit(0);
    }
  });
  process.send({ type: 'ready' });
}

// ---- orchestration ------------------------------------------------------------------------------------

function fail(message) {
  console.error(message);
  process.exit(2);
}

const children = new Set();
process.on('exit', () => {
  for (const proc of children) proc.kill('SIGKILL');
});

/** A child process of this script, its open-files soft limit raised; talks over IPC. */
function child(args) {
  const command = `ulimit -n ${FILES} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$0" --expose-gc "$@"`;
  const proc = spawn('sh', ['-c', command, process.execPath, SELF, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue = [];
  const waiting = [];
  proc.on('message', (m) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  children.add(proc);
  let stopping = false;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  exited.then((code) => {
    children.delete(proc);
    if (!stopping) fail(`child ${args.join(' ')} exited (${code}) unasked`);
  });
  return {
    next: () =>
      queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)),
    send: (m) => proc.send(m),
    async stop() {
      stopping = true;
      proc.send({ type: 'exit' });
      await exited;
    },
  };
}

async function measure(server) {
  server.send({ type: 'measure' });
  return server.next();
}

async function scenario(s, idle, load, messages) {
  const args = ['--server', s.impl, JSON.stringify(s.options)];
  // 1. idle: connections opened, then one message each way, then idle again.
  let server = child(args);
  const { port } = await server.next();
  const base = await measure(server);
  let clients = child(['--clients']);
  await clients.next();
  clients.send({ type: 'open', port, count: idle });
  await clients.next();
  const opened = await measure(server);
  clients.send({ type: 'exchange', messages: 1 });
  await clients.next();
  const used = await measure(server);
  await clients.stop();
  await server.stop();
  // 2. load: a fresh server, `load` connections each sending `messages` messages, one round trip at a time.
  server = child(args);
  const second = await server.next();
  const base2 = await measure(server);
  clients = child(['--clients']);
  await clients.next();
  clients.send({ type: 'open', port: second.port, count: load });
  await clients.next();
  const before = await measure(server);
  clients.send({ type: 'exchange', messages });
  const run = await clients.next();
  const after = await measure(server);
  await clients.stop();
  await server.stop();
  const perConn = (m, b, n) => (m - b) / n;
  return {
    impl: s.impl,
    name: s.name,
    baseRss: base.rss,
    idleRss: perConn(opened.rss, base.rss, idle),
    idleExternal: perConn(opened.external, base.external, idle),
    usedRss: perConn(used.rss, base.rss, idle),
    usedExternal: perConn(used.external, base.external, idle),
    loadPeakRss: perConn(after.maxRss, base2.rss, load),
    loadRss: perConn(after.rss, base2.rss, load),
    cpuPerMessage: (after.cpu - before.cpu) / run.messages,
    messagesPerSecond: run.messages / (run.ms / 1000),
  };
}

/** Figures behind the defaults: zlib's time and output per message, in this process. */
function zlibFigures() {
  // The best of 5 runs: other processes on the machine only ever make a run slower.
  const time = (fn, rounds) => {
    for (let i = 0; i < 100; i++) fn();
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 5; run++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) fn();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / rounds);
    }
    return best;
  };
  const sync = { finishFlush: constants.Z_SYNC_FLUSH };
  const rows = [];
  for (const n of [64, 256, KiB, 2 * KiB, 16 * KiB, 64 * KiB, 256 * KiB]) {
    const data = Buffer.from(message(n, 1));
    const rounds = Math.max(10, Math.min(1000, Math.floor(MiB / n)));
    const row = { size: n };
    for (const [level, memLevel] of [
      [1, 8],
      [6, 8],
      [1, 9],
      [1, 4],
    ]) {
      const options = { ...sync, level, memLevel };
      const out = deflateRawSync(data, options);
      row[`l${level}m${memLevel}`] = {
        bytes: out.length - 4,
        us: time(() => deflateRawSync(data, options), rounds),
      };
    }
    const compressed = deflateRawSync(data, { ...sync, level: 1 });
    row.inflateUs = time(() => inflateRawSync(compressed, sync), rounds);
    rows.push(row);
  }
  return rows;
}

/** The round trip of one deflate on the thread pool, against doing it synchronously. */
async function threadPoolFigures() {
  const rows = [];
  for (const n of [KiB, 16 * KiB, 64 * KiB, 256 * KiB]) {
    const data = Buffer.from(message(n, 2));
    const options = { level: 1, finishFlush: constants.Z_SYNC_FLUSH };
    const rounds = 100;
    let syncUs = Number.POSITIVE_INFINITY;
    let asyncUs = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 5; run++) {
      let start = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) deflateRawSync(data, options);
      syncUs = Math.min(syncUs, Number(process.hrtime.bigint() - start) / 1e3 / rounds);
      start = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) await new Promise((resolve) => deflateRaw(data, options, resolve));
      asyncUs = Math.min(asyncUs, Number(process.hrtime.bigint() - start) / 1e3 / rounds);
    }
    rows.push({ size: n, syncUs, asyncUs });
  }
  return rows;
}

/** What context takeover buys: bytes on the wire for 20 similar 2 KiB messages, with and without it. */
async function takeoverFigures() {
  const messages = Array.from({ length: 20 }, (_, k) => Buffer.from(message(2 * KiB, k)));
  const rows = [];
  for (const [windowBits, memLevel] of [
    [15, 8],
    [10, 4],
  ]) {
    const options = { level: 1, windowBits, memLevel };
    const sync = { ...options, finishFlush: constants.Z_SYNC_FLUSH };
    const alone = messages.reduce((sum, m) => sum + deflateRawSync(m, sync).length - 4, 0);
    const stream = createDeflateRaw(options);
    let takeover = 0;
    stream.on('data', (chunk) => {
      takeover += chunk.length;
    });
    for (const m of messages) {
      stream.write(m);
      await new Promise((resolve) => stream.flush(constants.Z_SYNC_FLUSH, resolve));
      takeover -= 4;
    }
    stream.close();
    const raw = messages.reduce((sum, m) => sum + m.length, 0);
    rows.push({ windowBits, memLevel, raw, alone, takeover });
  }
  return rows;
}

const kb = (bytes) => (bytes / KiB).toFixed(1);

async function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : process.argv[i + 1];
  };
  const idle = Number(arg('idle', 10000));
  const load = Number(arg('load', 1000));
  const messages = Number(arg('messages', 20));
  if (!existsSync(DIST)) fail('dist/ missing: run `npm run build` first');
  console.log(
    `node ${process.version}, ${idle} idle connections, ${load} under load × ${messages} messages of 2 KiB\n`,
  );
  const results = [];
  console.log(
    '| server | configuration | idle KiB/conn (RSS, zlib) | after 1 msg KiB/conn (RSS, zlib) | load peak KiB/conn | CPU µs/msg | msg/s |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const s of SCENARIOS) {
    const started = Date.now();
    const r = await scenario(s, idle, load, messages);
    console.error(`  (${s.impl}, ${s.name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    results.push(r);
    console.log(
      `| ${r.impl} | ${r.name} | ${kb(r.idleRss)}, ${kb(r.idleExternal)} | ${kb(r.usedRss)}, ${kb(r.usedExternal)} | ` +
        `${kb(r.loadPeakRss)} | ${r.cpuPerMessage.toFixed(0)} | ${Math.round(r.messagesPerSecond)} |`,
    );
  }
  const zlib = zlibFigures();
  console.log('\nzlib deflate per message (JSON-ish text): compressed bytes / µs, and inflate µs at level 1');
  console.log(
    '| size | level 1, memLevel 8 | level 6, memLevel 8 | level 1, memLevel 9 | level 1, memLevel 4 | inflate µs |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of zlib) {
    const cell = (c) => `${c.bytes} B / ${c.us.toFixed(1)} µs`;
    console.log(
      `| ${r.size} | ${cell(r.l1m8)} | ${cell(r.l6m8)} | ${cell(r.l1m9)} | ${cell(r.l1m4)} | ${r.inflateUs.toFixed(1)} |`,
    );
  }
  const pool = await threadPoolFigures();
  console.log('\ndeflate at level 1: synchronous against one thread-pool round trip (µs)');
  console.log('| size | sync | thread pool |');
  console.log('|---|---|---|');
  for (const r of pool) console.log(`| ${r.size} | ${r.syncUs.toFixed(1)} | ${r.asyncUs.toFixed(1)} |`);
  const takeover = await takeoverFigures();
  console.log('\n20 similar 2 KiB messages at level 1: bytes on the wire');
  console.log('| window, memLevel | uncompressed | no context takeover | context takeover |');
  console.log('|---|---|---|---|');
  for (const r of takeover) {
    console.log(`| ${r.windowBits}, ${r.memLevel} | ${r.raw} | ${r.alone} | ${r.takeover} |`);
  }
  const json = arg('json', undefined);
  if (json) {
    const all = { node: process.version, results, zlib, pool, takeover };
    writeFileSync(json, `${JSON.stringify(all, null, 2)}\n`);
  }
}

const role = process.argv[2];
if (role === '--server') await runServer(process.argv[3], JSON.parse(process.argv[4]));
else if (role === '--clients') await runClients();
else await main();
