import { argumentError } from '../protocol/errors.js';

/** What a WebSocketServer checks of its options before using any (the rest: checkConnectionOptions). */
interface CheckedOptions {
  port?: unknown;
  socketPath?: unknown;
  host?: unknown;
  backlog?: unknown;
  server?: unknown;
  noServer?: unknown;
  path?: unknown;
  clientTracking?: unknown;
  handleProtocols?: unknown;
  verifyClient?: unknown;
  WebSocket?: unknown;
  leanSockets?: unknown;
  maxHeaderSize?: unknown;
  maxHeadersCount?: unknown;
  tls?: unknown;
  http2?: unknown;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return Object.prototype.toString.call(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function check(ok: boolean, name: string, what: string, value: unknown): void {
  if (!ok) throw argumentError(`Option ${name} must be ${what}; got ${describe(value)}`);
}

/** ws's text when the options name no way to serve, or more than one. */
export const ONE_MODE = 'One and only one of the "port", "server", or "noServer" options must be specified';

/**
 * Throws WS_ERR_INVALID_ARGUMENT, naming the option, for a server option of the wrong type: a
 * mistake is reported where it is made, not as a TypeError from deep inside a handshake.
 */
export function checkServerOptions(
  options: unknown,
  WebSocketClass: abstract new (...args: never[]) => object,
): void {
  if (typeof options !== 'object' || options === null) {
    // ws's text: without options none of the three is given.
    throw argumentError(
      ONE_MODE,
      'TypeError',
      `WebSocketServer options must be an object; got ${describe(options)}`,
    );
  }
  const o = options as CheckedOptions;
  const { port, host, backlog, server, path, handleProtocols, verifyClient } = o;
  if (port !== undefined) {
    check(
      typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535,
      'port',
      'an integer from 0 to 65535',
      port,
    );
  }
  if (host !== undefined) check(typeof host === 'string', 'host', 'a string', host);
  checkSocketPath(o.socketPath, host, port);
  if (backlog !== undefined) {
    check(
      typeof backlog === 'number' && Number.isInteger(backlog) && backlog >= 0,
      'backlog',
      'an integer ≥ 0',
      backlog,
    );
  }
  if (server !== undefined) {
    const s = server as { on?: unknown; listen?: unknown };
    check(
      typeof server === 'object' &&
        server !== null &&
        typeof s.on === 'function' &&
        typeof s.listen === 'function',
      'server',
      'an http.Server, https.Server or http2 server',
      server,
    );
  }
  if (path !== undefined) check(typeof path === 'string', 'path', 'a string', path);
  // ---- TLS and HTTP/2 ----
  if (o.tls !== undefined)
    check(
      typeof o.tls === 'object' && o.tls !== null,
      'tls',
      'an object of TLS options (cert, key...)',
      o.tls,
    );
  if ((o.tls !== undefined || o.http2 === true) && port === undefined) {
    throw argumentError('Options tls and http2 go with port: for a server of your own, pass it as server');
  }
  for (const name of ['noServer', 'clientTracking', 'leanSockets', 'http2'] as const) {
    const value = o[name];
    if (value !== undefined) check(typeof value === 'boolean', name, 'true or false', value);
  }
  if (handleProtocols !== undefined) {
    check(typeof handleProtocols === 'function', 'handleProtocols', 'a function', handleProtocols);
  }
  if (verifyClient !== undefined)
    check(typeof verifyClient === 'function', 'verifyClient', 'a function', verifyClient);
  const Ctor = o.WebSocket;
  if (Ctor !== undefined) {
    check(
      typeof Ctor === 'function' && (Ctor === WebSocketClass || Ctor.prototype instanceof WebSocketClass),
      'WebSocket',
      "wskit's WebSocket class or a subclass of it",
      Ctor,
    );
  }
  for (const name of ['maxHeaderSize', 'maxHeadersCount'] as const) {
    const value = o[name];
    if (value !== undefined) {
      check(typeof value === 'number' && Number.isInteger(value) && value > 0, name, 'an integer > 0', value);
    }
  }
}

/** socketPath: a unix socket (or Windows named pipe) path to listen on, with no host. */
function checkSocketPath(socketPath: unknown, host: unknown, port: unknown): void {
  if (socketPath === undefined) return;
  check(
    typeof socketPath === 'string' && socketPath !== '',
    'socketPath',
    'a non-empty string (the path of a unix socket)',
    socketPath,
  );
  if (port !== undefined || host !== undefined) {
    throw argumentError(
      'Option socketPath excludes port and host: a server listens on a unix socket or on a TCP port',
    );
  }
}
