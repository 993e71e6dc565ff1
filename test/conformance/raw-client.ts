// A raw TCP WebSocket client for testing servers: performs the opening handshake of RFC 6455 §4.1 by hand,
// checks the server's answer strictly (§4.2.2), then hands the socket to a FramePeer (masking, client role).
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { DEFAULT_TIMEOUT_MS, FramePeer } from './frame-peer.js';
import { readHttpHead } from './http-head.js';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

export interface RawClientOptions {
  /**
   * A Sec-WebSocket-Extensions offer (e.g. `permessage-deflate; client_max_window_bits`). The server may
   * then answer with permessage-deflate (and nothing else); the answer is in `peer.extensions.answer`.
   */
  perMessageDeflate?: string;
}

/** Connects to 127.0.0.1:`port`, does the opening handshake and returns the established connection. */
export async function connectRaw(
  port: number,
  path = '/',
  options: RawClientOptions = {},
): Promise<FramePeer> {
  const offer = options.perMessageDeflate;
  const socket = connect({ host: '127.0.0.1', port });
  try {
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${path} HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${port}\r\n` +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\n` +
        (offer === undefined ? '' : `Sec-WebSocket-Extensions: ${offer}\r\n`) +
        'Sec-WebSocket-Version: 13\r\n\r\n',
    );
    const { startLine, headers, rest } = await readHttpHead(socket, DEFAULT_TIMEOUT_MS);
    if (!/^HTTP\/1\.1 101 /.test(startLine)) throw new Error(`handshake refused: ${startLine}`);
    if (headers.get('upgrade')?.toLowerCase() !== 'websocket')
      throw new Error('101 without Upgrade: websocket');
    const connection = (headers.get('connection') ?? '').toLowerCase().split(/\s*,\s*/);
    if (!connection.includes('upgrade')) throw new Error('101 without Connection: Upgrade');
    if (headers.get('sec-websocket-accept') !== acceptFor(key)) throw new Error('wrong Sec-WebSocket-Accept');
    // Only what was offered may be accepted (§4.1, client steps 5 and 6 of the answer checks).
    const answer = headers.get('sec-websocket-extensions');
    if (answer !== undefined) {
      if (offer === undefined) throw new Error('server accepted an extension never offered');
      if (!/^permessage-deflate\s*(;|$)/i.test(answer) || /,/.test(answer)) {
        throw new Error(`server answered ${JSON.stringify(answer)}: one permessage-deflate element expected`);
      }
    }
    if (headers.has('sec-websocket-protocol')) throw new Error('server chose a subprotocol never offered');
    return new FramePeer(socket, 'client', rest, { offer, answer });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
