import type { Server } from 'node:net';

/** Where the server wskit creates listens: a TCP port (on `host`), or a unix socket path. */
export interface ListenTarget {
  port?: number;
  host?: string;
  socketPath?: string;
  backlog?: number;
}

/** Starts listening on the target's port or unix socket path. */
export function listenOn(server: Server, target: ListenTarget, callback?: () => void): void {
  if (target.socketPath !== undefined) {
    server.listen({ path: target.socketPath, backlog: target.backlog }, callback);
  } else {
    server.listen(target.port, target.host, target.backlog, callback);
  }
}
