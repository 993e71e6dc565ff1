// The implementation under test, chosen by WSKIT_CONFORMANCE_IMPL: 'wskit' (default, ../../src/index.js)
// or 'ws' (the reference package, to validate the suite itself). Both expose the ws API, so the ws type
// declarations describe either.
import type * as Ws from 'ws';

export type ImplName = 'ws' | 'wskit';

export interface Features {
  /** The `fragmentSize` option: outgoing messages are split into frames of at most that many bytes. */
  fragmentSize: boolean;
}

interface Impl {
  name: ImplName;
  WebSocketServer: typeof Ws.WebSocketServer;
  WebSocket: typeof Ws.WebSocket;
  features: Features;
}

async function load(): Promise<Impl> {
  const which = process.env.WSKIT_CONFORMANCE_IMPL ?? 'wskit';
  if (which === 'ws') {
    const ws = await import('ws');
    // ws has no option to fragment outgoing messages.
    return {
      name: 'ws',
      WebSocketServer: ws.WebSocketServer,
      WebSocket: ws.WebSocket,
      features: { fragmentSize: false },
    };
  }
  if (which === 'wskit') {
    // A computed specifier keeps the type checker from requiring src/index.ts while it is being written.
    const specifier = '../../src/index.js';
    const wskit = (await import(specifier)) as Pick<Impl, 'WebSocketServer' | 'WebSocket'>;
    return {
      name: 'wskit',
      WebSocketServer: wskit.WebSocketServer,
      WebSocket: wskit.WebSocket,
      features: { fragmentSize: true },
    };
  }
  throw new Error(`WSKIT_CONFORMANCE_IMPL must be 'ws' or 'wskit', not ${JSON.stringify(which)}`);
}

export const { name, WebSocketServer, WebSocket, features } = await load();
