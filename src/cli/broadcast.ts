/**
 * `wskit broadcast`: every message a client sends goes to every client on the same URL path (the
 * topic), on this server and, with --redis, on every server sharing that Redis.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  RedisBroker,
  type VerifyClientCallback,
  type VerifyClientInfo,
  type WebSocket,
  WebSocketServer,
} from '../index.js';
import { MAX_TOPIC_LENGTH } from '../pubsub/topic-registry.js';
import { defineOptions, formatOptions, type OptionValues } from './args.js';
import { type Command, ExitStatus } from './command.js';
import { guard } from './connection-guard.js';
import { describeError } from './describe-error.js';
import { parseRedisUrl } from './option-values.js';
import { requestPath } from './request-target.js';
import {
  deflateOption,
  hostOption,
  maxPayloadOption,
  parseOptionsOnly,
  portOption,
  runUntilSignal,
  wsUrl,
} from './server-command.js';

const NAME = 'wskit broadcast';

const options = defineOptions({
  port: portOption,
  host: hostOption,
  redis: {
    kind: 'value',
    placeholder: 'URL',
    parse: parseRedisUrl,
    description:
      'Share the topics with every wskit server using this Redis (redis://host:port, rediss:// for TLS; needs the ioredis package). Default: this server only.',
  },
  maxPayload: maxPayloadOption,
  deflate: deflateOption,
  quiet: {
    kind: 'flag',
    short: 'q',
    description: "Print only the listening line and the server's errors: nothing per connection.",
  },
});

type BroadcastOptions = OptionValues<typeof options>;

const HELP = `\
Usage: wskit broadcast [options]

Runs a WebSocket server where each URL path is a topic: a client connecting to
ws://HOST:PORT/room1 is subscribed to "/room1", and every message it sends
goes to every client on "/room1" (itself included), with its type. With
--redis, the clients of every wskit server using the same Redis get it too:
start several, on one machine or many.

Standard output gets "wskit broadcast server listening on URL", then a line for
each connection opened and closed and, with --redis, when a topic is
subscribed in Redis and when Redis is connected (not with --quiet). Errors go
to standard error, Redis errors included: when Redis is unreachable, messages
still reach this server's clients, and the server reconnects by itself.

Ctrl+C (SIGINT) or SIGTERM closes every connection with 1001, waits for the
closing handshakes, and exits with status 0; a second signal drops the
connections left at once.

Options:
${formatOptions(options)}

Exit status:
  0  shut down by SIGINT or SIGTERM
  1  could not listen (the port is in use...), or --redis without ioredis
  2  a mistake on the command line

Examples:
  wskit broadcast                          # on ws://127.0.0.1:8080/ANY-TOPIC
  wskit broadcast --port 0 --quiet         # on a free port, printed
  wskit broadcast --port 8081 --redis redis://127.0.0.1:6379   # run several
  wskit connect ws://127.0.0.1:8080/room1  # then type: every client in
                                           # /room1 sees it`;

export const broadcastCommand: Command = {
  name: 'broadcast',
  summary: 'Run a server relaying each message to the clients on its URL path.',
  help: () => HELP,
  async run(argv) {
    const opts = parseOptionsOnly(argv, options, HELP, 'broadcast');
    return opts === null ? ExitStatus.OK : serve(opts);
  },
};

function serve(opts: BroadcastOptions): Promise<number> {
  const log = opts.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const logError = (line: string) => process.stderr.write(`${NAME}: ${line}\n`);
  const broker = opts.redis === undefined ? undefined : new RedisBroker({ url: opts.redis });
  const server = new WebSocketServer({
    port: opts.port,
    host: opts.host,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.deflate,
    broker,
    // The topic is the target's path: a target without one (`*`, `room`) is refused before the upgrade.
    verifyClient: (info: VerifyClientInfo, accept: VerifyClientCallback) =>
      requestPath(info.req.url ?? '/') === null
        ? accept(false, 400, 'The request target has no path')
        : accept(true),
  });
  let connections = 0;

  server.on('listening', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${NAME} server listening on ${wsUrl(opts.host, port)}\n`);
  });
  server.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const id = ++connections;
    // Reported even with --quiet: a handler that throws is the server's fault, not the client's.
    const failed = (err: unknown) =>
      logError(`connection ${id}: internal error, closed with 1011: ${describeError(err)}`);
    guard(ws, failed, () => {
      const topic = requestPath(req.url ?? '/') ?? '/';
      if (topic.length > MAX_TOPIC_LENGTH) {
        ws.close(1008, `A topic (the URL path) has at most ${MAX_TOPIC_LENGTH} characters`);
        return;
      }
      const from = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      log(`connection ${id} opened from ${from} on topic ${topic}`);
      const first = server.subscriberCount(topic) === 0;
      ws.subscribe(topic);
      if (first && broker !== undefined && !opts.quiet) {
        broker.ready().then(
          () => {
            if (server.subscriberCount(topic) > 0) log(`topic ${topic} subscribed in Redis`);
          },
          () => {},
        );
      }
      ws.on(
        'message',
        guard(ws, failed, (data: Buffer, isBinary: boolean) =>
          server.publish(topic, data, { binary: isBinary }),
        ),
      );
      ws.on(
        'error',
        guard(ws, failed, (err: Error) => {
          if (!opts.quiet) logError(`connection ${id} error: ${describeError(err)}`);
        }),
      );
      ws.on(
        'close',
        guard(ws, failed, (code: number, reason: Buffer) => {
          log(`connection ${id} closed: ${code}${reason.length === 0 ? '' : ` ${reason}`}`);
        }),
      );
    })();
  });

  // One line per kind of trouble and outage, not one per message published during it.
  let reported = new Set<string>();
  const report = (err: Error): void => {
    if (reported.has(err.message)) return;
    reported.add(err.message);
    logError(describeError(err));
  };
  server.on('brokerError', report);
  broker?.on('ready', () => {
    reported = new Set();
    log(`connected to Redis at ${opts.redis}: topics are shared with the servers using it`);
  });

  const { done, close, fail } = runUntilSignal(
    () => {
      const open = server.clients.size;
      log(
        open === 0
          ? 'shutting down'
          : `shutting down: closing ${open} connection${open === 1 ? '' : 's'} with 1001`,
      );
      return new Promise<void>((resolve) => server.close(() => resolve())).then(() => broker?.close());
    },
    () => {
      for (const ws of server.clients) ws.terminate();
    },
  );
  server.on('error', (err: Error) => {
    logError(`cannot listen on ${opts.host} port ${opts.port}: ${describeError(err)}`);
    const failed = () => fail(ExitStatus.FAILED);
    if (broker === undefined) failed();
    else broker.close().then(failed, failed);
  });
  // ready() rejects only when the broker cannot work at all (ioredis missing).
  broker?.ready().catch((err: Error) => {
    report(err);
    close(ExitStatus.FAILED);
  });
  return done;
}
