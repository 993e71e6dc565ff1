import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { WebSocket, WebSocketError } from '../../src/index.js';
import { selfSignedCertificate } from '../node/certificate.js';
import { next, portOf, recordClose, within } from '../node/helpers.js';

export {
  closed,
  defer,
  EVENT_TIMEOUT,
  next,
  portOf,
  recordClose,
  runCleanups,
  within,
} from '../node/helpers.js';

/** The 'error' and the 'close' code of a WebSocket whose handshake fails. */
export async function failure(ws: WebSocket): Promise<{ error: WebSocketError; code: number }> {
  const errored = next<[WebSocketError]>(ws, 'error');
  const closing = recordClose(ws);
  const [[error], { code }] = await Promise.all([errored, closing]);
  return { error, code };
}

/** A self-signed certificate for localhost and 127.0.0.1, made once per test process. */
export function certificate(): { cert: Buffer; key: Buffer } {
  return selfSignedCertificate();
}

/** An HTTP/2 session to 127.0.0.1:`port` (TLS with the test certificate trusted, or h2c), connected. */
export async function session(port: number, secure: boolean): Promise<ClientHttp2Session> {
  const s = secure
    ? connect(`https://127.0.0.1:${port}`, { ca: certificate().cert })
    : connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  await next(s, 'remoteSettings');
  return s;
}

/** Ends a session at once (its streams too) and waits for it to be gone. */
export async function closeSession(s: ClientHttp2Session): Promise<void> {
  if (s.destroyed) return;
  const gone = next(s, 'close');
  s.destroy();
  await gone;
}

/** Sends an extended CONNECT with `headers` (on top of a valid one) and resolves with the answer. */
export async function extendedConnect(
  s: ClientHttp2Session,
  headers: Record<string, string | undefined> = {},
): Promise<{ stream: ClientHttp2Stream; response: IncomingHttpHeaders; body: () => Promise<string> }> {
  const h: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':path': '/',
    'sec-websocket-version': '13',
  };
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) delete h[name];
    else h[name] = value;
  }
  const stream = s.request(h, { endStream: false });
  stream.on('error', () => {});
  const [response] = await next<[IncomingHttpHeaders]>(stream, 'response');
  const body = () =>
    within(
      new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
      }),
      'the end of the response body',
    );
  return { stream, response, body };
}

/** The URL of a server's port. */
export function urlOf(server: { address(): unknown }, scheme: 'ws' | 'wss', path = '/'): string {
  return `${scheme}://127.0.0.1:${portOf(server as never)}${path}`;
}
