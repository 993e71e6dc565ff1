/** `wskit echo`: a WebSocket echo server, for trying out clients. */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from '../index.js';
import { defineOptions, formatOptions, type OptionValues, parseArgs, UsageError } from './args.js';
import { type Command, ExitStatus } from './command.js';
import { describeError } from './describe-error.js';
import { parseByteSize, parsePath, parsePort, parseText } from './option-values.js';

const NAME = 'wskit echo';

const options = defineOptions({
  port: {
    kind: 'value',
    placeholder: 'PORT',
    parse: parsePort,
    default: 8080,
    description: 'Port to listen on; 0 picks a free port (the URL printed shows which). Default 8080.',
  },
  host: {
    kind: 'value',
    placeholder: 'HOST',
    parse: parseText,
    default: '127.0.0.1',
    description: 'Address to listen on; 0.0.0.0 or :: for every interface. Default 127.0.0.1.',
  },
  path: {
    kind: 'value',
    placeholder: 'PATH',
    parse: parsePath,
    description: 'Accept connections on this URL path only (others get 400). Default: any.',
  },
  maxPayload: {
    kind: 'value',
    placeholder: 'N',
    parse: parseByteSize,
    description:
      'Largest message accepted, in bytes; K, M, G suffixes (KiB, MiB, GiB). A bigger one closes the connection with 1009. 0: no limit. Default 100M.',
  },
  deflate: {
    kind: 'flag',
    default: true,
    description: 'Do not negotiate permessage-deflate compression.',
  },
  quiet: {
    kind: 'flag',
    short: 'q',
    description: "Print only the listening line and the server's errors: nothing per connection.",
  },
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
  wskit echo --host 0.0.0.0 --port 9000 --path /ws --max-payload 1M`;

export const echoCommand: Command = {
  name: 'echo',
  summary: 'Run a WebSocket echo server.',
  help: () => HELP,
  async run(argv) {
    const { options: opts, positionals, help } = parseArgs(argv, options);
    if (help) {
      process.stdout.write(`${HELP}\n`);
      return ExitStatus.OK;
    }
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: echo takes only options`);
    }
    return serve(opts);
  },
};

function serve(opts: EchoOptions): Promise<number> {
  const log = opts.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const logError = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${NAME}: ${line}\n`);
  const server = new WebSocketServer({
    port: opts.port,
    host: opts.host,
    path: opts.path,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.deflate,
  });
  let connections = 0;
  let closing = false;

  server.on('listening', () => {
    const { port } = server.address() as AddressInfo;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    process.stdout.write(`${NAME} server listening on ws://${host}:${port}${opts.path ?? ''}\n`);
  });
  server.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const id = ++connections;
    const protocol = ws.protocol === '' ? '' : ` (subprotocol ${ws.protocol})`;
    log(`connection ${id} opened from ${req.socket.remoteAddress}:${req.socket.remotePort}${protocol}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    ws.on('error', (err: Error) => logError(`connection ${id} error: ${describeError(err)}`));
    ws.on('close', (code: number, reason: Buffer) => {
      log(`connection ${id} closed: ${code}${reason.length === 0 ? '' : ` ${reason}`}`);
    });
  });

  return new Promise((resolve) => {
    const stop = (status: number): void => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      resolve(status);
    };
    function shutdown(): void {
      if (closing) {
        for (const ws of server.clients) ws.terminate();
        return;
      }
      closing = true;
      const open = server.clients.size;
      log(
        open === 0
          ? 'shutting down'
          : `shutting down: closing ${open} connection${open === 1 ? '' : 's'} with 1001`,
      );
      server.close(() => stop(ExitStatus.OK));
    }
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
    server.on('error', (err: Error) => {
      process.stderr.write(
        `${NAME}: cannot listen on ${opts.host} port ${opts.port}: ${describeError(err)}\n`,
      );
      stop(ExitStatus.FAILED);
    });
  });
}
