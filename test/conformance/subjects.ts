// The endpoints under test, set up as echo peers exactly as a user of the ws API would write them.
import type { AddressInfo } from 'node:net';
import type * as Ws from 'ws';
import { within } from '../node/helpers.js';
import type { CaseOptions } from './case.js';
import { WebSocket, WebSocketServer } from './impl.js';

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** A server under test that echoes every message with its type. */
export async function startEchoServer(options: CaseOptions = {}): Promise<EchoServer> {
  // fragmentSize is not in ws's option types; wskit's superset is passed through as is.
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options } as Ws.ServerOptions);
  const open = new Set<Ws.WebSocket>();
  server.on('connection', (ws) => {
    open.add(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    // Protocol errors are what many cases provoke; the outcome is checked on the wire.
    ws.on('error', () => undefined);
    ws.on('close', () => open.delete(ws));
  });
  if (!server.address()) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => {
      for (const ws of open) ws.terminate();
      return withTimeout(
        new Promise<void>((resolve) => server.close(() => resolve())),
        'the server.close() callback',
      );
    },
  };
}

export interface EchoClient {
  ws: Ws.WebSocket;
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: Buffer }>;
}

/** A client under test, connected to ws://127.0.0.1:`port`/, that echoes every message with its type. */
export function startEchoClient(port: number, options: CaseOptions = {}): EchoClient {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, options as Ws.ClientOptions);
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  const errors: Error[] = [];
  // Protocol errors are what many cases provoke; the outcome is checked on the wire.
  ws.on('error', (err) => errors.push(err));
  const closed = new Promise<{ code: number; reason: Buffer }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    closed.then(() => reject(new Error(`client closed before opening: ${errors.map(String).join('; ')}`)));
  });
  opened.catch(() => undefined); // reported where awaited
  return { ws, opened, closed };
}

function once(emitter: Ws.WebSocketServer, event: 'listening'): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => emitter.once(event, () => resolve())), `'${event}'`);
}

/** Fails with a message naming `what` if `p` has not settled within `ms` (the suite's one deadline helper). */
export function withTimeout<T>(p: Promise<T>, what: string, ms = 3000): Promise<T> {
  return within(p, what, ms);
}
