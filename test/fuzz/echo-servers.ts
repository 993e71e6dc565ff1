// The servers the server fuzz target talks to: four WebSocketServers from the public API on
// 127.0.0.1, plain and with permessage-deflate, each on LeanSockets and on net.Sockets, both echoing every message with its type.
// Connections are paused and resumed at random; CLOSE_TRIGGER makes the server close. Whatever breaks an oracle on this side (an error that
// is not a documented WebSocketError, a server 'error') is reported through `onViolation`.
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketError, WebSocketServer } from '../../src/index.js';
import { documentedCodes } from './documented-codes.js';
import { Rng } from './prng.js';

export const ECHO_MAX_PAYLOAD = 65536;
/** A text message the echo servers answer with close(4000, 'asked') instead of an echo. */
export const CLOSE_TRIGGER = Buffer.from('wskit-fuzz: close');

export interface EchoServers {
  /** Ports of the plain servers (LeanSocket, net.Socket), and of the deflate ones. */
  plain: number[];
  deflate: number[];
  connections(): number;
  close(): Promise<void>;
}

export async function startEchoServers(
  seed: number,
  onViolation: (message: string) => void,
): Promise<EchoServers> {
  const codes = documentedCodes();
  const rng = new Rng(seed);
  const checkError = (where: string) => (err: unknown) => {
    if (!(err instanceof WebSocketError))
      onViolation(`${where}: ${err instanceof Error ? err.stack : String(err)}`);
    else if (!codes.has(err.code)) onViolation(`${where}: undocumented code ${err.code}`);
  };
  const onConnection = (ws: WebSocket) => {
    ws.on('error', checkError("a connection's 'error'"));
    if (rng.chance(0.1)) {
      ws.pause();
      setTimeout(() => ws.resume(), rng.int(10));
    }
    ws.on('message', (data, isBinary) => {
      if (!isBinary && CLOSE_TRIGGER.equals(data as Buffer)) {
        ws.close(4000, 'asked');
        return;
      }
      if (ws.readyState === 1)
        ws.send(data as Buffer, { binary: isBinary }, (err) => err && checkError('send callback')(err));
      if (rng.chance(0.15) && !ws.isPaused) {
        ws.pause();
        setTimeout(() => ws.resume(), rng.int(8));
      }
    });
  };
  const common = {
    host: '127.0.0.1',
    port: 0,
    maxPayload: ECHO_MAX_PAYLOAD,
    heartbeat: false as const,
    handshakeTimeout: 3000,
    closeTimeout: 3000,
  };
  // Plain and deflate, each with LeanSockets (the default) and with net.Sockets.
  const servers = [
    new WebSocketServer(common),
    new WebSocketServer({ ...common, leanSockets: false }),
    new WebSocketServer({ ...common, perMessageDeflate: true }),
    new WebSocketServer({ ...common, perMessageDeflate: true, leanSockets: false }),
  ];
  for (const server of servers) {
    server.on('connection', onConnection);
    server.on('error', checkError("the server's 'error'"));
  }
  await Promise.all(
    servers.map(
      (s) => new Promise<void>((resolve) => (s.address() ? resolve() : s.once('listening', () => resolve()))),
    ),
  );
  return {
    plain: servers.slice(0, 2).map((s) => (s.address() as AddressInfo).port),
    deflate: servers.slice(2).map((s) => (s.address() as AddressInfo).port),
    connections: () => servers.reduce((n, s) => n + s.clients.size, 0),
    close: () =>
      Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
        () => {},
      ),
  };
}
