// The conformance suite's ends of a WebSocket over HTTP/2 (RFC 8441), for test/conformance's cases:
// a raw client that opens an extended CONNECT stream by hand and checks the 200 strictly, and a raw
// server that checks a client's extended CONNECT and answers 200. Either hands the stream to the
// suite's FramePeer, which reads and writes it as it does a TCP socket: the stream is a Duplex, and its
// END_STREAM is the FIN that §7.1.1's "the server closes TCP" becomes.
import {
  type ClientHttp2Session,
  connect,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_TIMEOUT_MS, FramePeer } from '../conformance/frame-peer.js';

const EMPTY = Buffer.alloc(0);

/** FramePeer calls setNoDelay on its socket; a stream has none (the session's socket has it on). */
function asSocket(stream: Duplex): Socket {
  return Object.assign(stream, { setNoDelay: () => stream }) as unknown as Socket;
}

function within<T>(p: Promise<T>, what: string, ms = DEFAULT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** An h2c session to 127.0.0.1:`port`, once the server's SETTINGS allow extended CONNECT. */
export async function rawSession(port: number): Promise<ClientHttp2Session> {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  await within(new Promise((r) => session.once('remoteSettings', r)), "the server's SETTINGS");
  if (session.remoteSettings.enableConnectProtocol !== true) {
    session.destroy();
    throw new Error('the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)');
  }
  return session;
}

/**
 * Opens a WebSocket stream on `session` by hand and checks the answer (RFC 8441 §5); with
 * `perMessageDeflate`, offers it (the answer is in `peer.extensions.answer`).
 */
export async function connectRawH2(
  session: ClientHttp2Session,
  path = '/',
  options: { perMessageDeflate?: string } = {},
): Promise<FramePeer> {
  const offer = options.perMessageDeflate;
  const stream = session.request(
    {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':path': path,
      'sec-websocket-version': '13',
      ...(offer === undefined ? {} : { 'sec-websocket-extensions': offer }),
    },
    { endStream: false },
  );
  stream.on('error', () => {});
  try {
    const response = await within(
      new Promise<IncomingHttpHeaders>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('close', () =>
          reject(new Error(`stream closed before its answer (RST ${stream.rstCode})`)),
        );
      }),
      'the answer to the extended CONNECT',
    );
    if (Number(response[':status']) !== 200) throw new Error(`handshake refused: ${response[':status']}`);
    if (response['sec-websocket-accept'] !== undefined) throw new Error('Sec-WebSocket-Accept over HTTP/2');
    const answer = response['sec-websocket-extensions'] as string | undefined;
    if (answer !== undefined) {
      if (offer === undefined) throw new Error('server accepted an extension never offered');
      if (!/^permessage-deflate\s*(;|$)/i.test(answer) || /,/.test(answer)) {
        throw new Error(`server answered ${JSON.stringify(answer)}: one permessage-deflate element expected`);
      }
    }
    if (response['sec-websocket-protocol'] !== undefined) throw new Error('a subprotocol never offered');
    return new FramePeer(asSocket(stream), 'client', EMPTY, { offer, answer });
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/** A raw HTTP/2 server for clients under test: checks each extended CONNECT, answers 200 by hand. */
export class RawH2Server {
  private readonly pending: Promise<FramePeer>[] = [];
  private readonly waiting: ((p: Promise<FramePeer>) => void)[] = [];
  private readonly sessions = new Set<Http2Session>();

  private constructor(
    private readonly server: Http2Server,
    readonly port: number,
    answer: string | undefined,
  ) {
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('error', () => {});
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const peer = handshake(stream, headers, answer);
      peer.catch(() => stream.destroy());
      const waiter = this.waiting.shift();
      if (waiter) waiter(peer);
      else this.pending.push(peer);
    });
  }

  /** `perMessageDeflate`: the Sec-WebSocket-Extensions answer to a permessage-deflate offer. */
  static async listen(options: { perMessageDeflate?: string } = {}): Promise<RawH2Server> {
    const server = createServer({ settings: { enableConnectProtocol: true } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return new RawH2Server(server, (server.address() as { port: number }).port, options.perMessageDeflate);
  }

  accept(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<FramePeer> {
    const ready = this.pending.shift();
    if (ready) return ready;
    return within(
      new Promise<Promise<FramePeer>>((resolve) => this.waiting.push(resolve)),
      'a client',
      timeoutMs,
    ).then((p) => p);
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function handshake(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  answerWith: string | undefined,
): Promise<FramePeer> {
  const problems: string[] = [];
  if (headers[':method'] !== 'CONNECT') problems.push(`:method ${headers[':method']}`);
  if (headers[':protocol'] !== 'websocket') problems.push(`:protocol ${headers[':protocol']}`);
  if (!headers[':path'] || !headers[':scheme'] || !headers[':authority'])
    problems.push('no :path, :scheme or :authority');
  if (headers['sec-websocket-version'] !== '13') problems.push('Sec-WebSocket-Version is not 13');
  if (headers['sec-websocket-key'] !== undefined) problems.push('a Sec-WebSocket-Key over HTTP/2');
  if (headers.upgrade !== undefined || headers.connection !== undefined)
    problems.push('Upgrade or Connection');
  if (problems.length > 0) {
    stream.respond({ ':status': 400 }, { endStream: true });
    throw new Error(`client's extended CONNECT invalid (RFC 8441 §5): ${problems.join('; ')}`);
  }
  const offer = headers['sec-websocket-extensions'] as string | undefined;
  const answer =
    answerWith !== undefined && offer !== undefined && /(^|,)\s*permessage-deflate\s*(;|,|$)/i.test(offer)
      ? answerWith
      : undefined;
  stream.respond({ ':status': 200, ...(answer === undefined ? {} : { 'sec-websocket-extensions': answer }) });
  return new FramePeer(asSocket(stream), 'server', EMPTY, { offer, answer });
}
