// A scripted raw TCP WebSocket server for testing clients: validates the client's opening handshake
// (RFC 6455 §4.1, §4.2.1), answers 101 by hand without negotiating any subprotocol, and no extension unless
// told to (`perMessageDeflate`), then hands the socket to a FramePeer (server role: sends unmasked frames,
// requires masked ones).
import { createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_TIMEOUT_MS, FramePeer } from './frame-peer.js';
import { readHttpHead } from './http-head.js';
import { acceptFor } from './raw-client.js';

export interface RawServerOptions {
  /**
   * The Sec-WebSocket-Extensions answer to send, as is, when the client offered permessage-deflate
   * (a function gets the offer). Default: no answer, nothing negotiated.
   */
  perMessageDeflate?: string | ((offer: string) => string | undefined);
}

export class RawServer {
  private readonly pending: Array<Promise<FramePeer>> = [];
  private readonly waiting: Array<(p: Promise<FramePeer>) => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    options: RawServerOptions,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const peer = handshake(socket, options);
      peer.catch(() => socket.destroy());
      const waiter = this.waiting.shift();
      if (waiter) waiter(peer);
      else this.pending.push(peer);
    });
  }

  static async listen(options: RawServerOptions = {}): Promise<RawServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    return new RawServer(server, address.port, options);
  }

  /** The next connection whose opening handshake succeeded; rejects if the handshake was invalid. */
  accept(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<FramePeer> {
    const ready = this.pending.shift();
    if (ready) return ready;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(onPeer), 1);
        reject(new Error(`no client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onPeer = (p: Promise<FramePeer>) => {
        clearTimeout(timer);
        p.then(resolve, reject);
      };
      this.waiting.push(onPeer);
    });
  }

  /** Stops listening and destroys any connection still open. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function handshake(socket: Socket, options: RawServerOptions): Promise<FramePeer> {
  const { startLine, headers, rest } = await readHttpHead(socket, DEFAULT_TIMEOUT_MS);
  const problems: string[] = [];
  if (!/^GET \S+ HTTP\/1\.1$/.test(startLine)) problems.push(`request line ${JSON.stringify(startLine)}`);
  if (!headers.has('host')) problems.push('no Host');
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') problems.push('no Upgrade: websocket');
  const connection = (headers.get('connection') ?? '').toLowerCase().split(/\s*,\s*/);
  if (!connection.includes('upgrade')) problems.push('no Connection: Upgrade');
  if (headers.get('sec-websocket-version') !== '13') problems.push('Sec-WebSocket-Version is not 13');
  const key = headers.get('sec-websocket-key') ?? '';
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || Buffer.from(key, 'base64').length !== 16) {
    problems.push(`Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 base64-encoded bytes`);
  }
  if (problems.length > 0) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    throw new Error(`client handshake invalid (§4.1): ${problems.join('; ')}`);
  }
  const offer = headers.get('sec-websocket-extensions');
  const answerWith = options.perMessageDeflate;
  let answer: string | undefined;
  if (
    answerWith !== undefined &&
    offer !== undefined &&
    /(^|,)\s*permessage-deflate\s*(;|,|$)/i.test(offer)
  ) {
    answer = typeof answerWith === 'string' ? answerWith : answerWith(offer);
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      (answer === undefined ? '' : `Sec-WebSocket-Extensions: ${answer}\r\n`) +
      `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
  );
  return new FramePeer(socket, 'server', rest, { offer, answer });
}
