/** `wskit chat`: the chat app (src/chat/), a page and its WebSocket endpoint on one port. */
import { normalizeOrigin } from '../chat/allowed-origins.js';
import { ChatServer, DEFAULT_HISTORY, DEFAULT_MAX_ROOM_MEMBERS, type LogLevel } from '../chat/chat-server.js';
import { RedisBroker } from '../index.js';
import { defineOptions, formatOptions, type OptionValues } from './args.js';
import { type Command, ExitStatus } from './command.js';
import { describeError } from './describe-error.js';
import { parseCount, parseRedisUrl } from './option-values.js';
import { hostOption, parseOptionsOnly, portOption, runUntilSignal } from './server-command.js';

const NAME = 'wskit chat';

/** The URL without its password, for printing. */
function redact(raw: string): string {
  const url = new URL(raw);
  if (url.password !== '') url.password = '***';
  return url.href;
}

/** An --allow-origin value: `http://` or `https://`, a host, an optional port, nothing after. */
function parseOrigin(raw: string): string {
  try {
    return normalizeOrigin(raw);
  } catch {
    throw new Error('expected an origin: http:// or https://, a host and an optional port, nothing after');
  }
}

const options = defineOptions({
  port: portOption,
  host: hostOption,
  redis: {
    kind: 'value',
    placeholder: 'URL',
    parse: parseRedisUrl,
    description:
      'Share rooms with the other chat servers using this Redis server (redis://host:port). Needs the ioredis package. Default: rooms stay on this server.',
  },
  maxRoomMembers: {
    kind: 'value',
    placeholder: 'N',
    parse: parseCount(1),
    default: DEFAULT_MAX_ROOM_MEMBERS,
    description: `Most people in one room on this server; one more is told the room is full. Default ${DEFAULT_MAX_ROOM_MEMBERS.toLocaleString('en-US')}.`,
  },
  history: {
    kind: 'value',
    placeholder: 'N',
    parse: parseCount(0),
    default: DEFAULT_HISTORY,
    description: `Messages kept per room (24 h at most): a newcomer sees them, a page that reconnects gets those it missed. 0 keeps none. Default ${DEFAULT_HISTORY}.`,
  },
  allowOrigin: {
    kind: 'list',
    placeholder: 'ORIGIN',
    parse: parseOrigin,
    description:
      "Let pages of this origin connect (e.g. https://chat.example.com behind a proxy); repeatable. The page's own origins (the listening address, localhost) always are; no other.",
  },
  quiet: {
    kind: 'flag',
    short: 'q',
    description: 'Print only the listening lines and the errors: no line per join and leave.',
  },
});

type ChatOptions = OptionValues<typeof options>;

const HELP = `\
Usage: wskit chat [options]

Runs a chat: the page at http://HOST:PORT/ and its WebSocket endpoint at
ws://HOST:PORT/ws, on one port. Open the page in a few browser windows, choose
a name, and talk. A room is chosen in the page or in the URL:
http://127.0.0.1:8080/?room=NAME. The messages and limits are in docs/chat.md.

With --redis, several chat servers (on other ports or machines) share their
rooms through Redis: a message sent on one reaches the people on all.

Each room keeps its last --history messages (in Redis with --redis): a
newcomer sees them, and a page whose server went away reconnects (to any
server sharing the Redis) and shows what was said meanwhile, once, in order.

Standard output gets "wskit chat server listening on URL" and a line saying
what to open, then a line for each join and leave (not with --quiet). Nothing
anyone writes is printed. Errors go to standard error: a connection's (not
with --quiet), the server's and Redis's (always).

Ctrl+C (SIGINT) or SIGTERM closes every connection with 1001 (the pages
reconnect by themselves when a server is back) and exits with status 0; a
second signal exits at once.

A browser's connection is accepted only from a page of an allowed origin:
the page's own (http://ADDRESS:PORT for the address listened on, every
interface's for 0.0.0.0 or ::, and http://localhost:PORT for a loopback one)
and those given with --allow-origin; others get 403.

Options:
${formatOptions(options)}

Exit status:
  0  shut down by SIGINT or SIGTERM
  1  could not listen (the port is in use...), or could not use --redis
  2  a mistake on the command line

Examples:
  wskit chat                                # http://127.0.0.1:8080/
  wskit chat --port 0                       # on a free port, printed
  wskit chat --port 8081 --redis redis://127.0.0.1:6379
  wskit chat --history 500                  # keep 500 messages per room
  wskit chat --allow-origin https://chat.example.com   # behind a TLS proxy`;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'Run a chat app: a web page and its WebSocket server.',
  help: () => HELP,
  async run(argv) {
    const opts = parseOptionsOnly(argv, options, HELP, 'chat');
    return opts === null ? ExitStatus.OK : serve(opts);
  },
};

/** How long --redis may take to connect before the command gives up. */
const REDIS_CONNECT_TIMEOUT = 5_000;

/** A RedisBroker connected to `url`; rejects if Redis cannot be reached in time (or ioredis is missing). */
async function connectRedis(url: string): Promise<RedisBroker> {
  const broker = new RedisBroker({ url });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no connection within ${REDIS_CONNECT_TIMEOUT / 1000} s; is redis-server running?`)),
      REDIS_CONNECT_TIMEOUT,
    );
  });
  try {
    await Promise.race([broker.ready(), timeout]);
    return broker;
  } catch (err) {
    await broker.close().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function serve(opts: ChatOptions): Promise<number> {
  const log = (line: string, level: LogLevel): void => {
    if (level === 'info' && !opts.quiet) process.stdout.write(`${line}\n`);
    else if (level === 'warn' && !opts.quiet) process.stderr.write(`${NAME}: ${line}\n`);
    else if (level === 'error') process.stderr.write(`${NAME}: ${line}\n`);
  };
  let broker: RedisBroker | undefined;
  if (opts.redis !== undefined) {
    try {
      broker = await connectRedis(opts.redis);
    } catch (err) {
      process.stderr.write(`${NAME}: cannot use Redis at ${redact(opts.redis)}: ${describeError(err)}\n`);
      return ExitStatus.FAILED;
    }
  }
  let chat: ChatServer;
  try {
    chat = await ChatServer.listen({
      port: opts.port,
      host: opts.host,
      broker,
      log,
      maxRoomMembers: opts.maxRoomMembers,
      history: opts.history,
      allowedOrigins: opts.allowOrigin,
    });
  } catch (err) {
    await broker?.close().catch(() => {});
    process.stderr.write(`${NAME}: cannot listen on ${opts.host} port ${opts.port}: ${describeError(err)}\n`);
    return ExitStatus.FAILED;
  }
  const open = ['0.0.0.0', '::'].includes(opts.host) ? `http://localhost:${chat.port}/` : chat.url;
  process.stdout.write(`${NAME} server listening on ${chat.url}\n`);
  process.stdout.write(
    `Open ${open} in a browser (${open}?room=NAME for another room)` +
      `${broker === undefined ? '' : `; rooms shared through ${redact(opts.redis ?? '')}`}.\n`,
  );

  const { done } = runUntilSignal(
    () => {
      log('shutting down', 'info');
      return chat
        .close()
        .then(() => broker?.close())
        .catch((err: unknown) => {
          process.stderr.write(`${NAME}: ${describeError(err)}\n`);
        });
    },
    () => {},
  );
  return done;
}
