// One load generator of the soak: opens WebSocket connections over raw TCP, at most `concurrency`
// at a time, each from the next of its source addresses (127.0.0.x). Each connection does the
// opening handshake (the Sec-WebSocket-Accept checked), sends one masked text message, checks that
// the echo is the same text, sends a Close 1000, checks the server's Close 1000 and waits for the
// server to close TCP. At most OPENING of its connections are in their opening handshake at once
// (a burst of thousands of SYNs would overflow the server's SYN queue, and the dropped ones are only
// retried a second later). Started by bench/soak/soak.mjs with an IPC channel:
//   parent → { type: 'run', count }   make `count` more connections, then answer
//   child  → { type: 'done', count, failures: { reason: n }, ms }
//   child  → { type: 'progress', done } about once a second while running
//   parent → { type: 'exit' }
// Arguments: PORT CONCURRENCY SOURCES (comma-separated 127.0.0.x addresses) [OPENING] [TIMEOUT_MS]
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const [portArg, concurrencyArg, sourcesArg, openingArg, timeoutArg] = process.argv.slice(2);
const port = Number(portArg);
const concurrency = Number(concurrencyArg);
const sources = (sourcesArg ?? '').split(',').filter(Boolean);
const opening = Number(openingArg ?? 256);
const timeoutMs = Number(timeoutArg ?? 20_000);
if (
  !(port > 0) ||
  !(concurrency > 0) ||
  !(opening > 0) ||
  sources.length === 0 ||
  !sources.every(isLoopback)
) {
  console.error(
    'usage: node churn-client.mjs PORT CONCURRENCY 127.0.0.x[,127.0.0.y...] [OPENING] [TIMEOUT_MS]',
  );
  process.exit(2);
}

function isLoopback(address) {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** A client frame: FIN set, masked, payload under 126 bytes. */
function clientFrame(opcode, payload) {
  const mask = randomBytes(4);
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

const CLOSE_1000 = Buffer.from([0x03, 0xe8]);

/** Connections in their opening handshake, and those waiting for their turn to start one. */
let handshaking = 0;
const waiting = [];

function handshakeSlot() {
  if (handshaking < opening) {
    handshaking++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}

function releaseHandshakeSlot() {
  const next = waiting.shift();
  if (next === undefined) handshaking--;
  else next();
}

/** Runs one connection; resolves with null when everything was as it should be, else with why not. */
function churnOne(seq, localAddress) {
  return new Promise((resolve) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    const text = Buffer.from(`soak message ${seq}`);
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let state = 'handshake';
    let input = Buffer.alloc(0);
    let failure = null;
    let slot = true;
    const release = () => {
      if (slot) releaseHandshakeSlot();
      slot = false;
    };
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    const fail = (why) => {
      if (failure === null && state !== 'done') failure = why;
      socket.destroy();
    };
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(
        `GET /soak HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk) => {
      input = input.length === 0 ? chunk : Buffer.concat([input, chunk]);
      if (state === 'handshake') {
        const end = input.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = input.toString('latin1', 0, end);
        input = input.subarray(end + 4);
        release();
        if (!head.startsWith('HTTP/1.1 101 ')) return fail(`handshake: ${head.split('\r\n')[0]}`);
        if (
          !new RegExp(`\r\nsec-websocket-accept: ${accept.replace(/[+/]/g, '\\$&')}(\r\n|$)`, 'i').test(head)
        ) {
          return fail('handshake: wrong Sec-WebSocket-Accept');
        }
        state = 'echo';
        socket.write(clientFrame(0x1, text));
      }
      // Server frames: unmasked, FIN set, short (the echo and the Close are under 126 bytes).
      while (input.length >= 2 && state !== 'closed') {
        const length = input[1];
        if (length > 125) return fail('frame: unexpected length or mask bit');
        if (input.length < 2 + length) return;
        const opcode = input[0];
        const payload = input.subarray(2, 2 + length);
        input = input.subarray(2 + length);
        if (state === 'echo') {
          if (opcode !== 0x81 || !payload.equals(text)) return fail('echo: not the text sent');
          state = 'closing';
          socket.write(clientFrame(0x8, CLOSE_1000));
        } else if (state === 'closing') {
          if (opcode !== 0x88 || !payload.equals(CLOSE_1000)) return fail('close: not a Close 1000');
          state = 'closed';
        } else {
          return fail('frame: unexpected before the echo');
        }
      }
    });
    socket.on('error', (error) => {
      if (failure === null && state !== 'closed') failure = `socket: ${error.code ?? error.message}`;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      release();
      if (failure === null && state !== 'closed') failure = `closed in state ${state}`;
      state = 'done';
      resolve(failure);
    });
  });
}

let seq = 0;

/** Makes `count` connections, `concurrency` at a time; resolves with the failures by reason. */
async function run(count) {
  const failures = {};
  let started = 0;
  let done = 0;
  const progress = setInterval(() => process.send({ type: 'progress', done }), 1000);
  const worker = async () => {
    while (started < count) {
      started++;
      const n = seq++;
      await handshakeSlot();
      const why = await churnOne(n, sources[n % sources.length]);
      done++;
      if (why !== null) failures[why] = (failures[why] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  clearInterval(progress);
  return failures;
}

process.on('message', async (message) => {
  if (message.type === 'run') {
    const start = performance.now();
    const failures = await run(message.count);
    process.send({ type: 'done', count: message.count, failures, ms: performance.now() - start });
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
