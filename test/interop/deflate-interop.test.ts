// permessage-deflate between wskit and ws, every way round (wskit server ↔ ws client, ws server ↔ wskit
// client, wskit ↔ wskit), with both ends configured alike: context takeover on or off in each direction,
// server_max_window_bits and client_max_window_bits from 9 to 15. Each end must accept the other's offer
// or answer, report it (extensions, the Sec-WebSocket-Extensions header), and keep to it: a sender that
// uses a larger window or more context than negotiated sends data the receiver cannot inflate, and one
// that ignores context takeover compresses a repeated message no smaller. Then the handshake's edges:
// several offers, offers to decline, answers a client must refuse.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  acceptFor,
  closeRawServer,
  defer,
  keyOf,
  maskedFrame,
  next,
  rawConnect,
  rawServer,
  runCleanups,
  serverFrames,
  upgradeRequest,
  WebSocket,
  WebSocketServer,
  WsServer,
  WsWebSocket,
  within,
} from '../node/helpers.js';

type Lib = 'wskit' | 'ws';

/** What the tests need of a WebSocket; wskit's and ws's both fit. */
type Socket = EventEmitter & {
  extensions: string;
  send(data: unknown, options?: object): void;
  close(code?: number): void;
  terminate(): void;
  _socket: NetSocket | null;
};

interface Params {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

interface Direction {
  server: Lib;
  client: Lib;
}

const DIRECTIONS: Direction[] = [
  { server: 'wskit', client: 'ws' },
  { server: 'ws', client: 'wskit' },
  { server: 'wskit', client: 'wskit' },
];

const nameOf = (d: Direction) => `${d.server} server ↔ ${d.client} client`;

afterEach(runCleanups);

/** The same permessage-deflate options on both ends (option names shared by ws and wskit). */
function optionsOf(p: Params): object {
  return { ...p, threshold: 0 };
}

/** The parameters of a Sec-WebSocket-Extensions value, sorted. */
function paramsOf(header: string | undefined): string[] {
  assert.ok(header !== undefined, 'no Sec-WebSocket-Extensions header');
  const [name, ...params] = header.split(';').map((s) => s.trim());
  assert.equal(name, 'permessage-deflate');
  return params.sort();
}

/**
 * The answer each server gives to the other end's offer. The offers differ: ws's client offers every
 * window it is configured with; wskit's offers server_max_window_bits only below 15. The answers
 * differ too: ws's server names every window it is configured with, offered or not.
 */
function expectedAnswer(d: Direction, p: Params): string[] {
  const params: string[] = [];
  if (p.serverNoContextTakeover) params.push('server_no_context_takeover');
  if (p.clientNoContextTakeover) params.push('client_no_context_takeover');
  const serverBitsOffered = d.client === 'ws' || p.serverMaxWindowBits < 15;
  if (d.server === 'ws' || serverBitsOffered) params.push(`server_max_window_bits=${p.serverMaxWindowBits}`);
  if (d.server === 'ws' || p.clientMaxWindowBits < 15) {
    params.push(`client_max_window_bits=${p.clientMaxWindowBits}`);
  }
  return params.sort();
}

/** The Sec-WebSocket-Extensions value in a server's 'headers' lines. */
function extensionsLine(lines: string[]): string | undefined {
  const line = lines.find((l) => /^sec-websocket-extensions:/i.test(l));
  return line?.slice(line.indexOf(':') + 1).trim();
}

/** Messages received, in order; next() fails if the connection closes first. */
class Inbox {
  private readonly queue: Array<[Buffer, boolean]> = [];
  private waiter: (() => void) | null = null;
  private closed: string | null = null;

  constructor(ws: Socket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.queue.push([data, isBinary]);
      this.waiter?.();
    });
    ws.on('close', (code: number) => {
      this.closed = `closed with ${code}`;
      this.waiter?.();
    });
  }

  async next(what = 'a message'): Promise<[Buffer, boolean]> {
    return within(
      new Promise((resolve, reject) => {
        const check = () => {
          const item = this.queue.shift();
          if (item !== undefined) resolve(item);
          else if (this.closed !== null) reject(new Error(`${this.closed} before ${what}`));
          else return;
          this.waiter = null;
        };
        this.waiter = check;
        check();
      }),
      what,
      10_000,
    );
  }
}

/** Counts the bytes a socket receives, before the WebSocket reads them. */
function wireCounter(ws: Socket): { bytes: number } {
  const counter = { bytes: 0 };
  ws._socket!.prependListener('data', (chunk: Buffer) => {
    counter.bytes += chunk.length;
  });
  return counter;
}

interface Connection {
  server: Socket;
  client: Socket;
  serverInbox: Inbox;
  clientInbox: Inbox;
  /** Sec-WebSocket-Extensions as the server sent it ('headers') and as the client got it ('upgrade'). */
  sent: string | undefined;
  received: string | undefined;
}

function opened(ws: EventEmitter): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    "the client's 'open'",
  );
}

async function connect(
  d: Direction,
  serverOptions: object,
  clientOptions = serverOptions,
): Promise<Connection> {
  const wss =
    d.server === 'wskit'
      ? new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: serverOptions })
      : new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: serverOptions });
  defer(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  await next(wss as EventEmitter, 'listening');
  const { port } = wss.address() as { port: number };
  let sent: string | undefined;
  (wss as EventEmitter).once('headers', (lines: string[]) => {
    sent = extensionsLine(lines);
  });
  const accepted = next<[Socket]>(wss as EventEmitter, 'connection');
  const Client = d.client === 'wskit' ? WebSocket : WsWebSocket;
  const client = new (Client as typeof WsWebSocket)(`ws://127.0.0.1:${port}`, {
    perMessageDeflate: clientOptions,
  }) as unknown as Socket;
  defer(() => client.terminate());
  let received: string | undefined;
  client.once('upgrade', (res: IncomingMessage) => {
    received = res.headers['sec-websocket-extensions'] as string | undefined;
  });
  const clientInbox = new Inbox(client);
  await opened(client);
  const [server] = await accepted;
  return { server, client, serverInbox: new Inbox(server), clientInbox, sent, received };
}

/** Printable ASCII text repeating a pseudo-random block of `block` bytes. */
function repeating(n: number, block: number): Buffer {
  const unit = randomBytes(block);
  for (let i = 0; i < block; i++) unit[i] = 0x20 + (unit[i] % 95);
  const out = Buffer.allocUnsafe(n);
  for (let at = 0; at < n; at += block) unit.copy(out, at, 0, Math.min(block, n - at));
  return out;
}

async function closeBoth(c: Connection): Promise<void> {
  const closes = [next(c.client, 'close'), next(c.server, 'close')];
  c.client.close(1000);
  const [[clientCode], [serverCode]] = (await Promise.all(closes)) as [[number], [number]];
  assert.equal(clientCode, 1000);
  assert.equal(serverCode, 1000);
}

/**
 * One direction of a connection: a 200-byte message sent twice (with context takeover the second one
 * compresses to a few bytes, without it to exactly as many as the first), then a message repeating a
 * block just past the sender's window (a sender using a larger window refers back that far, and the
 * receiver, with the negotiated window, fails).
 */
async function keepsTo(
  from: Socket,
  to: Socket,
  inbox: Inbox,
  takeover: boolean,
  windowBits: number,
  what: string,
): Promise<void> {
  const counter = wireCounter(to);
  const probe = repeating(200, 200);
  const sizes: number[] = [];
  for (let k = 0; k < 2; k++) {
    const before = counter.bytes;
    from.send(probe, { binary: false });
    const [data] = await inbox.next(`${what}: message ${k + 1}`);
    assert.deepEqual(data, probe);
    sizes.push(counter.bytes - before);
  }
  if (takeover)
    assert.ok(sizes[1] < sizes[0] / 4, `${what}: context takeover unused (${sizes.join(', ')} bytes)`);
  else assert.equal(sizes[1], sizes[0], `${what}: context kept without takeover (${sizes.join(', ')} bytes)`);
  if (windowBits < 15) {
    const wide = repeating(3 * ((1 << windowBits) + 100), (1 << windowBits) + 100);
    from.send(wide);
    assert.deepEqual((await inbox.next(`${what}: window ${windowBits} probe`))[0], wide);
  }
}

describe('permessage-deflate negotiation matrix: takeover on/off each way, windows 9-15 each way', () => {
  for (const snct of [true, false]) {
    for (const cnct of [true, false]) {
      for (let sbits = 9; sbits <= 15; sbits++) {
        for (let cbits = 9; cbits <= 15; cbits++) {
          const p: Params = {
            serverNoContextTakeover: snct,
            clientNoContextTakeover: cnct,
            serverMaxWindowBits: sbits,
            clientMaxWindowBits: cbits,
          };
          const title =
            `server ${snct ? 'no takeover' : 'takeover'} window ${sbits}, ` +
            `client ${cnct ? 'no takeover' : 'takeover'} window ${cbits}`;
          it(`${title}: every pair agrees, reports it and keeps to it`, async () => {
            for (const d of DIRECTIONS) {
              const c = await connect(d, optionsOf(p));
              const where = `${nameOf(d)}, ${title}`;
              assert.equal(c.client.extensions, 'permessage-deflate', where);
              assert.equal(c.server.extensions, 'permessage-deflate', where);
              assert.deepEqual(paramsOf(c.sent), expectedAnswer(d, p), `${where}: the answer sent`);
              assert.equal(c.received, c.sent, `${where}: the answer received`);
              await keepsTo(c.client, c.server, c.serverInbox, !cnct, cbits, `${where}, client → server`);
              await keepsTo(c.server, c.client, c.clientInbox, !snct, sbits, `${where}, server → client`);
              await closeBoth(c);
            }
          });
        }
      }
    }
  }
});

const KiB = 1024;
const MiB = 1024 * KiB;
const TEXT_UNIT = 'héllo wörld · Ελληνικά · 日本語 · 😀🎉 · 𝄞 · ';

/** A string of about `n` UTF-8 bytes, multi-byte characters throughout; `seed` varies the start. */
function text(n: number, seed: number): string {
  if (n === 0) return '';
  const unit = Buffer.byteLength(TEXT_UNIT);
  return `${seed}:${TEXT_UNIT.repeat(Math.ceil(n / unit))}`;
}

/** Binary of `n` bytes: random up to 64 KiB, a compressible pattern beyond. */
function binary(n: number, seed: number): Buffer {
  if (n <= 64 * KiB) return randomBytes(n);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 8) out.writeUInt32BE((i * 2654435761 + seed) >>> 0, i);
  return out;
}

interface Outgoing {
  parts: Array<string | Buffer>;
  binary: boolean;
}

/** Every shape of message: text and binary of 0 B to 1 MiB, each twice (1 MiB once); messages in 3 parts. */
function messages(): Outgoing[] {
  const list: Outgoing[] = [];
  for (const n of [0, KiB, 64 * KiB, MiB]) {
    const t = text(n, n);
    const b = binary(n, n);
    for (let k = 0; k < (n < MiB ? 2 : 1); k++) {
      list.push({ parts: [t], binary: false });
      list.push({ parts: [b], binary: true });
    }
  }
  const long = text(100 * KiB, 7);
  list.push({ parts: [long.slice(0, 10), long.slice(10, 50_000), long.slice(50_000)], binary: false });
  const bytes = binary(100 * KiB, 8);
  list.push({ parts: [bytes.subarray(0, 1), Buffer.alloc(0), bytes.subarray(1)], binary: true });
  list.push({ parts: ['', '', ''], binary: false });
  return list;
}

/** Sends every message in one burst; the receiver must get them whole and in order. */
async function carries(from: Socket, inbox: Inbox, list: Outgoing[], what: string): Promise<void> {
  for (const m of list) {
    m.parts.forEach((part, i) => {
      from.send(part, { binary: m.binary, fin: i === m.parts.length - 1 });
    });
  }
  for (const [i, m] of list.entries()) {
    const [data, isBinary] = await inbox.next(`${what}: message ${i + 1}`);
    const expected = Buffer.concat(m.parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    assert.equal(isBinary, m.binary, `${what}: message ${i + 1} type`);
    assert.ok(data.equals(expected), `${what}: message ${i + 1} (${expected.length} bytes) differs`);
  }
}

describe('permessage-deflate interop: text and binary of 0 B to 1 MiB, repeated, in parts', () => {
  const list = messages();
  for (const d of DIRECTIONS) {
    describe(nameOf(d), () => {
      for (const [snct, cnct] of [
        [true, true],
        [false, false],
        [true, false],
        [false, true],
      ]) {
        for (const [sbits, cbits] of [
          [15, 15],
          [9, 9],
          [12, 10],
        ]) {
          const p: Params = {
            serverNoContextTakeover: snct,
            clientNoContextTakeover: cnct,
            serverMaxWindowBits: sbits,
            clientMaxWindowBits: cbits,
          };
          it(`server ${snct ? 'no ' : ''}takeover/${sbits}, client ${cnct ? 'no ' : ''}takeover/${cbits}`, async () => {
            const c = await connect(d, optionsOf(p));
            await Promise.all([
              carries(c.client, c.serverInbox, list, 'client → server'),
              carries(c.server, c.clientInbox, list, 'server → client'),
            ]);
            await closeBoth(c);
          });
        }
      }
    });
  }

  it('defaults: a wskit server (no takeover either way) with a default ws client and a default wskit client', async () => {
    for (const d of [DIRECTIONS[0], DIRECTIONS[2]]) {
      const c = await connect(d, {}, {});
      assert.deepEqual(paramsOf(c.sent), ['client_no_context_takeover', 'server_no_context_takeover']);
      await carries(c.client, c.serverInbox, list.slice(0, 8), `${nameOf(d)}, client → server`);
      await carries(c.server, c.clientInbox, list.slice(0, 8), `${nameOf(d)}, server → client`);
      await closeBoth(c);
    }
  });

  it('defaults: a default wskit client with a ws server (perMessageDeflate: true): context takeover both ways, as between two ws', async () => {
    const c = await connect(DIRECTIONS[1], {}, {});
    assert.deepEqual(paramsOf(c.sent), []);
    await carries(c.client, c.serverInbox, list.slice(0, 8), 'client → server');
    await carries(c.server, c.clientInbox, list.slice(0, 8), 'server → client');
    await closeBoth(c);
  });
});

/** A raw client's opening handshake with an extension offer: the response head and what followed it. */
async function rawUpgrade(
  port: number,
  offer: string,
): Promise<{ socket: NetSocket; head: string; rest: Buffer }> {
  const socket = await rawConnect(port);
  defer(() => socket.destroy());
  socket.write(upgradeRequest({ 'Sec-WebSocket-Extensions': offer }));
  let received = Buffer.alloc(0);
  for (;;) {
    const [chunk] = await next<[Buffer]>(socket, 'data');
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (end !== -1)
      return { socket, head: received.subarray(0, end).toString(), rest: received.subarray(end + 4) };
  }
}

/** Reads unmasked frames until `count` arrived. */
async function readFrames(socket: NetSocket, rest: Buffer, count: number) {
  let buffer = rest;
  for (;;) {
    const frames = serverFrames(buffer);
    if (frames.length >= count) return frames;
    const [chunk] = await next<[Buffer]>(socket, 'data');
    buffer = Buffer.concat([buffer, chunk]);
  }
}

const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
const compress = (s: string) =>
  deflateRawSync(Buffer.from(s), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
const inflate = (b: Buffer) =>
  inflateRawSync(Buffer.concat([b, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });

async function echoServer(options: object) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options });
  defer(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  wss.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })),
  );
  await next(wss, 'listening');
  return (wss.address() as { port: number }).port;
}

describe('permessage-deflate handshake edges (wskit server, raw client)', () => {
  it('several offers in one header: the first acceptable one is answered, and used', async () => {
    const port = await echoServer({ threshold: 0 });
    const { socket, head, rest } = await rawUpgrade(
      port,
      'permessage-deflate; server_max_window_bits=99, permessage-deflate; client_no_context_takeover',
    );
    assert.match(head, /^HTTP\/1\.1 101 /);
    const answer = /^sec-websocket-extensions: (.*)$/im.exec(head)?.[1];
    assert.deepEqual(paramsOf(answer), ['client_no_context_takeover', 'server_no_context_takeover']);
    socket.write(maskedFrame(0x41, compress('squeezed hello'))); // RSV1 + text
    const [echo] = await readFrames(socket, rest, 1);
    assert.equal(echo.opcode, 1);
    assert.notEqual(echo.payload.toString(), 'squeezed hello', 'the echo is compressed');
    assert.equal(inflate(echo.payload).toString(), 'squeezed hello');
  });

  const invalid = [
    'permessage-deflate; foo',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=010',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=8',
    'permessage-deflate; client_max_window_bits=abc',
    'permessage-deflate; client_max_window_bits=8.5',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'x-webkit-deflate-frame',
  ];
  for (const offer of invalid) {
    it(`declines "${offer}": the connection opens uncompressed, and RSV1 is then refused`, async () => {
      const port = await echoServer({});
      const { socket, head, rest } = await rawUpgrade(port, offer);
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.doesNotMatch(head, /sec-websocket-extensions/i);
      socket.write(maskedFrame(0x01, 'plain'));
      socket.write(maskedFrame(0x41, compress('not negotiated')));
      const [echo, close] = await readFrames(socket, rest, 2);
      assert.equal(echo.payload.toString(), 'plain');
      assert.equal(close.opcode, 8);
      assert.equal(close.payload.readUInt16BE(0), 1002);
    });
  }
});

describe('permessage-deflate: answers the wskit client must refuse (WS_ERR_HANDSHAKE_INVALID_RESPONSE)', () => {
  /** A raw server answering 101 with `answer` as Sec-WebSocket-Extensions; resolves with the client's error. */
  async function answered(answer: string, clientOptions: object = {}) {
    const raw = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n` +
          `Sec-WebSocket-Extensions: ${answer}\r\n\r\n`,
      );
    });
    defer(() => closeRawServer(raw));
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, clientOptions);
    defer(() => ws.terminate());
    // (events.once() for 'close' would reject on the 'error' that comes first.)
    const failed = within(
      new Promise<Error & { code?: string }>((resolve) => ws.once('error', resolve)),
      "'error'",
    );
    const closed = within(new Promise<number>((resolve) => ws.once('close', resolve)), "'close'");
    return { err: await failed, code: await closed };
  }

  const cases: Array<[string, string, object?]> = [
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['a parameter twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    [
      'server_max_window_bits out of range',
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=16',
    ],
    [
      'server_max_window_bits not a number',
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=x',
    ],
    [
      'server_max_window_bits above the one offered',
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
      { perMessageDeflate: { serverMaxWindowBits: 10 } },
    ],
    [
      'no server_max_window_bits when one was offered',
      'permessage-deflate; server_no_context_takeover',
      { perMessageDeflate: { serverMaxWindowBits: 10 } },
    ],
    [
      'client_max_window_bits above the one offered',
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=12',
      { perMessageDeflate: { clientMaxWindowBits: 10 } },
    ],
    [
      'client_max_window_bits without a value',
      'permessage-deflate; server_no_context_takeover; client_max_window_bits',
    ],
    [
      'no server_no_context_takeover when it was asked for',
      'permessage-deflate',
      { perMessageDeflate: { serverNoContextTakeover: true } },
    ],
    ['permessage-deflate twice', 'permessage-deflate; server_no_context_takeover, permessage-deflate'],
    ['an extension not offered', 'x-webkit-deflate-frame'],
    ['permessage-deflate when it was not offered', 'permessage-deflate', { perMessageDeflate: false }],
  ];
  for (const [what, answer, options] of cases) {
    it(`${what}: "${answer}"`, async () => {
      const { err, code } = await answered(answer, options);
      assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE', err.message);
      assert.equal(code, 1006);
    });
  }

  it('accepts an unasked server_max_window_bits (ws servers name their configured window): the configuration is supported', async () => {
    const raw = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10\r\n\r\n',
      );
      const data = deflateRawSync(Buffer.from('windowed'), {
        windowBits: 10,
        finishFlush: constants.Z_SYNC_FLUSH,
      });
      const payload = data.subarray(0, -4);
      socket.write(Buffer.concat([Buffer.from([0xc1, payload.length]), payload])); // FIN + RSV1 + text
    });
    defer(() => closeRawServer(raw));
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`);
    defer(() => ws.terminate());
    const [data] = await next<[Buffer]>(ws, 'message');
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.equal(data.toString(), 'windowed');
  });
});
