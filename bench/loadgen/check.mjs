// Checks that bench/loadgen/loadgen is strict: it runs the load generator against a small raw
// WebSocket server (node:net, written here) that behaves well in some modes and breaks the
// protocol in others, and compares exit statuses and error counters with what they must be.
//
//   node bench/loadgen/check.mjs     (build it first: make -C bench/loadgen; LOADGEN=path picks another
//                                    build, e.g. LOADGEN=bench/loadgen/loadgen-asan after make loadgen-asan)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const LOADGEN = process.env.LOADGEN ?? fileURLToPath(new URL('./loadgen', import.meta.url));
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);

function frame(
  opcode,
  payload,
  { fin = true, rsv1 = false, rsv2 = false, masked = false, long16 = false } = {},
) {
  const len = payload.length;
  const ext = long16 || (len >= 126 && len < 65536) ? 2 : len >= 65536 ? 8 : 0;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 2 ? 126 : ext === 8 ? 127 : len);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, body]);
}

/** Client frames: masked, unfragmented (the load generator never fragments). */
function* readFrames(state) {
  for (;;) {
    const b = state.buf;
    if (b.length < 2) return;
    let len = b[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return;
      len = Number(b.readBigUInt64BE(2));
      at = 10;
    }
    if (!(b[1] & 0x80)) throw new Error('unmasked client frame');
    if (b.length < at + 4 + len) return;
    const key = b.subarray(at, at + 4);
    const payload = Buffer.from(b.subarray(at + 4, at + 4 + len));
    for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
    state.buf = b.subarray(at + 4 + len);
    yield { opcode: b[0] & 0x0f, rsv1: (b[0] & 0x40) !== 0, payload };
  }
}

function deflateMessage(data) {
  const z = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return z.subarray(0, z.length - 4);
}

function startServer(mode) {
  const stats = { pingsSent: new Set(), pongsOk: 0, pongsBad: 0, messages: 0 };
  const subscribers = new Set();
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    const state = { buf: Buffer.alloc(0), deflate: false, count: 0, open: false };
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (!state.open) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const request = head.subarray(0, end).toString('latin1');
        state.buf = head.subarray(end + 4);
        state.open = true;
        handshake(socket, request, state);
        if (request.startsWith('GET /broadcast')) subscribers.add(socket);
        socket.on('close', () => subscribers.delete(socket));
      } else {
        state.buf = Buffer.concat([state.buf, chunk]);
      }
      for (const f of readFrames(state)) onFrame(socket, state, f);
    });
  });

  function handshake(socket, request, state) {
    const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
    const offered = /sec-websocket-extensions:\s*permessage-deflate/i.test(request);
    if (mode === 'status') return socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    let accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    if (mode === 'badaccept') accept = createHash('sha1').update(`${key}x`).digest('base64');
    const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
    lines.push(`Sec-WebSocket-Accept: ${accept}`);
    if ((offered && mode.startsWith('deflate')) || mode === 'unoffered-ext') {
      state.deflate = true;
      lines.push(
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      );
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  function onFrame(socket, state, { opcode, rsv1, payload }) {
    if (opcode === 8) {
      socket.end(frame(8, payload.subarray(0, 2)));
      return;
    }
    if (opcode === 10) {
      if (stats.pingsSent.has(payload.toString('hex'))) stats.pongsOk++;
      else stats.pongsBad++;
      return;
    }
    if (opcode === 9) return;
    let data = payload;
    if (rsv1)
      data = zlib.inflateRawSync(Buffer.concat([payload, TAIL]), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
    stats.messages++;
    state.count++;
    if (mode === 'broadcast') {
      for (const peer of subscribers) peer.write(frame(opcode, data));
      return;
    }
    echo(socket, state, opcode, data);
  }

  function echo(socket, state, opcode, data) {
    const n = state.count;
    if (mode === 'corrupt' && n === 20) data = Buffer.from(data.map((b, i) => (i === 5 ? b ^ 1 : b)));
    if (mode === 'short' && n === 20) data = data.subarray(0, data.length - 1);
    if (mode === 'opcode' && n === 20) opcode = opcode === 1 ? 2 : 1;
    if (mode === 'close' && n === 20) return socket.write(frame(8, Buffer.from([0x03, 0xe8])));
    if (mode === 'masked' && n === 20) return socket.write(frame(opcode, data, { masked: true }));
    if (mode === 'rsv2' && n === 20) return socket.write(frame(opcode, data, { rsv2: true }));
    if (mode === 'rsv1' && n === 20) return socket.write(frame(opcode, data, { rsv1: true }));
    if (mode === 'bigping' && n === 20) socket.write(frame(9, Buffer.alloc(126)));
    if (mode === 'nonminimal' && n === 20) return socket.write(frame(opcode, data, { long16: true }));
    if (mode === 'extra' && n === 20) socket.write(frame(opcode, data));
    if (mode === 'frag' || mode === 'deflate-frag') return socket.write(fragmented(state, opcode, data, n));
    socket.write(frame(opcode, data));
  }

  /** The echo in 1-4 random fragments with pings between them; compressed on every other message. */
  function fragmented(state, opcode, data, n) {
    const compress = state.deflate && n % 2 === 0;
    const body = compress ? deflateMessage(data) : data;
    const parts = [];
    const cuts = [0, ...[1, 2, 3].map(() => Math.floor(Math.random() * (body.length + 1)))].sort(
      (a, b) => a - b,
    );
    cuts.push(body.length);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const last = i + 2 === cuts.length;
      parts.push(
        frame(i === 0 ? opcode : 0, body.subarray(cuts[i], cuts[i + 1]), {
          fin: last,
          rsv1: compress && i === 0,
        }),
      );
      if (!last && Math.random() < 0.5) {
        const ping = randomBytes(Math.floor(Math.random() * 126));
        stats.pingsSent.add(ping.toString('hex'));
        parts.push(frame(9, ping));
      }
    }
    return Buffer.concat(parts);
  }

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, stats }));
  });
}

function runLoadgen(args) {
  return new Promise((resolve) => {
    const child = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const quick = ['--duration', '0.5', '--warmup', '0.1', '--conns', '4'];
const CASES = [
  {
    mode: 'frag',
    args: ['echo', ...quick, '--inflight', '4', '--size', '3000', '--text'],
    code: 0,
    pongs: true,
  },
  { mode: 'frag', args: ['echo', ...quick, '--size', '200000'], code: 0, pongs: true },
  { mode: 'frag', args: ['echo', ...quick, '--size', '0'], code: 0 },
  {
    mode: 'deflate-frag',
    args: ['echo', ...quick, '--inflight', '4', '--size', '5000', '--text', '--deflate'],
    code: 0,
    pongs: true,
  },
  { mode: 'deflate-frag', args: ['echo', ...quick, '--size', '10', '--text', '--deflate'], code: 0 },
  { mode: 'echo', args: ['echo', ...quick, '--deflate', '--text'], code: 3 },
  { mode: 'broadcast', path: '/broadcast', args: ['broadcast', ...quick, '--inflight', '4'], code: 0 },
  { mode: 'echo', args: ['connect', '--conns', '300', '--hold', '0.2'], code: 0 },
  { mode: 'status', args: ['echo', ...quick], code: 1, counter: 'handshake' },
  { mode: 'badaccept', args: ['echo', ...quick], code: 1, counter: 'handshake' },
  { mode: 'unoffered-ext', args: ['echo', ...quick], code: 1, counter: 'handshake' },
  { mode: 'corrupt', args: ['echo', ...quick, '--size', '64'], code: 1, counter: 'content' },
  { mode: 'short', args: ['echo', ...quick, '--size', '64'], code: 1, counter: 'length' },
  { mode: 'opcode', args: ['echo', ...quick], code: 1, counter: 'opcode' },
  { mode: 'close', args: ['echo', ...quick], code: 1, counter: 'server_close' },
  { mode: 'masked', args: ['echo', ...quick], code: 1, counter: 'protocol' },
  { mode: 'rsv2', args: ['echo', ...quick], code: 1, counter: 'protocol' },
  { mode: 'rsv1', args: ['echo', ...quick], code: 1, counter: 'protocol' },
  { mode: 'bigping', args: ['echo', ...quick], code: 1, counter: 'protocol' },
  { mode: 'nonminimal', args: ['echo', ...quick], code: 1, counter: 'protocol' },
  { mode: 'extra', args: ['echo', ...quick, '--inflight', '1'], code: 1, counter: 'unexpected' },
];

if (!existsSync(LOADGEN)) {
  console.error('build the load generator first: make -C bench/loadgen');
  process.exit(2);
}
let failures = 0;
for (const c of CASES) {
  const { server, port, stats } = await startServer(c.mode);
  const [mode, ...rest] = c.args;
  const { code, out } = await runLoadgen([mode, `ws://127.0.0.1:${port}${c.path ?? '/'}`, ...rest]);
  server.close();
  const problems = [];
  if (code !== c.code) problems.push(`exit ${code}, expected ${c.code}`);
  if (c.counter && !new RegExp(`\\b${c.counter}=[1-9]`).test(out))
    problems.push(`no ${c.counter} error counted`);
  if (c.pongs && (stats.pongsOk === 0 || stats.pongsBad > 0))
    problems.push(`pongs: ${stats.pongsOk} matching, ${stats.pongsBad} not matching a ping`);
  const label = `${c.mode.padEnd(13)} loadgen ${c.args.join(' ')}`;
  if (problems.length) {
    failures++;
    console.log(`FAIL ${label}: ${problems.join('; ')}\n${out}`);
  } else console.log(`ok   ${label} (exit ${code}${c.pongs ? `, ${stats.pongsOk} pongs checked` : ''})`);
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
