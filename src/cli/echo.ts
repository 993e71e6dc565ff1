/** `wskit echo`: a WebSocket echo server, for trying out clients. */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from '../index.js';
import { defineOptions, formatOptions, type OptionValues } from './args.js';
import { type Command, ExitStatus } from './command.js';
import { guard } from './connection-guard.js';
import { describeError } from './describe-error.js';
import { parsePath } from './option-values.js';
import {
  deflateOption,
  hostOption,
  maxPayloadOption,
  parseOptionsOnly,
  portOption,
  runUntilSignal,
  wsUrl,
} from './server-command.js';
import { serverHttp2Option, serverTls, tlsCertOption, tlsKeyOption } from './tls-options.js';

const NAME = 'wskit echo';

const options = defineOptions({
  port: portOption,
  host: hostOption,
  path: {
    kind: 'value',
    placeholder: 'PATH',
    parse: parsePath,
    description: 'Accept connections on this URL path only (others get 400). Default: any.',
  },
  maxPayload: maxPayloadOption,
  deflate: deflateOption,
  legacy: {
    kind: 'flag',
    description:
      'Also speak the older protocols: hixie-76, Sec-WebSocket-Version 7 and 8, and the Flash policy file on the same port (see docs/legacy-protocols.md: hixie-76 has no masking). Default: off.',
  },
  quiet: {
    kind: 'flag',
    short: 'q',
    description: "Print only the listening line and the server's errors: nothing per connection.",
  },
  tlsCert: tlsCertOption,
  tlsKey: tlsKeyOption,
  http2: serverHttp2Option,
});

type EchoOptions = OptionValues<typeof options>;

const HELP = `\
Usage: wskit echo [options]

Runs a WebSocket echo server. Every message is sent back with its type (text
stays text, binary stays binary); a client's Close is answered with the same
code and reason. The first subprotocol a client offers is accepted.

Standard output gets "wskit echo server listening on URL", then a line for each
connection opened and closed (not with --quiet). Errors go to standard error
(a connection's errors, such as a message over --max-payload, not with --quiet).

Ctrl+C (SIGINT) or SIGTERM closes every connection with 1001, waits for the
closing handshakes, and exits with status 0; a second signal drops the
connections left at once.

Options:
${formatOptions(options)}

Exit status:
  0  shut down by SIGINT or SIGTERM
  1  could not listen (the port is in use, the address is not local...)
  2  a mistake on the command line

Examples:
  wskit echo                     # on ws://127.0.0.1:8080
  wskit echo --port 0 --quiet    # on a free port, printed
  wskit echo --host 0.0.0.0 --port 9000 --path /ws --max-payload 1M
  wskit echo --legacy            # also hixie-76, hybi-07/08 and Flash clients
  wskit echo --tls-cert cert.pem --tls-key key.pem --http2  # wss://, h2 + 1.1`;

export const echoCommand: Command = {
  name: 'echo',
  summary: 'Run a WebSocket echo server.',
  help: () => HELP,
  async run(argv) {
    const opts = parseOptionsOnly(argv, options, HELP, 'echo');
    return opts === null ? ExitStatus.OK : serve(opts);
  },
};

function serve(opts: EchoOptions): Promise<number> {
  const log = opts.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const logError = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${NAME}: ${line}\n`);
  const secure = serverTls(opts);
  const server = new WebSocketServer({
    ...secure,
    port: opts.port,
    host: opts.host,
    path: opts.path,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.deflate,
    legacy: opts.legacy ? { hixie76: true, hybi08: true, flashPolicy: true } : undefined,
  });
  let connections = 0;

  server.on('listening', () => {
    const { port } = server.address() as AddressInfo;
    const url = wsUrl(opts.host, port, opts.path);
    const listening = secure.tls === undefined ? url : url.replace(/^ws:/, 'wss:');
    const over = secure.http2 ? (secure.tls === undefined ? ' (HTTP/2 h2c)' : ' (HTTP/2 and HTTP/1.1)') : '';
    process.stdout.write(`${NAME} server listening on ${listening}${over}\n`);
  });
  server.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const id = ++connections;
    // Reported even with --quiet: a handler that throws is the server's fault, not the client's.
    const failed = (err: unknown) =>
      process.stderr.write(
        `${NAME}: connection ${id}: internal error, closed with 1011: ${describeError(err)}\n`,
      );
    guard(ws, failed, () => {
      const protocol = ws.protocol === '' ? '' : ` (subprotocol ${ws.protocol})`;
      log(`connection ${id} opened from ${req.socket.remoteAddress}:${req.socket.remotePort}${protocol}`);
      ws.on(
        'message',
        guard(ws, failed, (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })),
      );
      ws.on(
        'error',
        guard(ws, failed, (err: Error) => logError(`connection ${id} error: ${describeError(err)}`)),
      );
      ws.on(
        'close',
        guard(ws, failed, (code: number, reason: Buffer) => {
          log(`connection ${id} closed: ${code}${reason.length === 0 ? '' : ` ${reason}`}`);
        }),
      );
    })();
  });

  const { done, fail } = runUntilSignal(
    () => {
      const open = server.clients.size;
      log(
        open === 0
          ? 'shutting down'
          : `shutting down: closing ${open} connection${open === 1 ? '' : 's'} with 1001`,
      );
      return new Promise((resolve) => server.close(() => resolve()));
    },
    () => {
      for (const ws of server.clients) ws.terminate();
    },
  );
  server.on('error', (err: Error) => {
    process.stderr.write(`${NAME}: cannot listen on ${opts.host} port ${opts.port}: ${describeError(err)}\n`);
    fail(ExitStatus.FAILED);
  });
  return done;
}
