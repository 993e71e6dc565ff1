/** `wskit chat`: the chat app (src/chat/), a page and its WebSocket endpoint on one port. */

import { ChatServer } from '../chat/chat-server.js';
import type { Broker } from '../index.js';
import { defineOptions, formatOptions, type OptionValues, parseArgs, UsageError } from './args.js';
import { type Command, ExitStatus } from './command.js';
import { describeError } from './describe-error.js';
import { parsePort, parseText } from './option-values.js';

const NAME = 'wskit chat';

/** A Redis URL: redis://[user:password@]host[:port][/db], or rediss:// for TLS. */
function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected a URL such as redis://127.0.0.1:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error('expected a redis:// or rediss:// URL');
  }
  return raw;
}

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
  redis: {
    kind: 'value',
    placeholder: 'URL',
    parse: parseRedisUrl,
    description:
      'Share rooms with the other chat servers using this Redis server (redis://host:port). Needs the ioredis package. Default: rooms stay on this server.',
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

Standard output gets "wskit chat server listening on URL" and a line saying
what to open, then a line for each join and leave (not with --quiet). Nothing
anyone writes is printed. Errors go to standard error.

Ctrl+C (SIGINT) or SIGTERM closes every connection with 1001 (the pages
reconnect by themselves when a server is back) and exits with status 0; a
second signal exits at once.

Options:
${formatOptions(options)}

Exit status:
  0  shut down by SIGINT or SIGTERM
  1  could not listen (the port is in use...), or could not use --redis
  2  a mistake on the command line

Examples:
  wskit chat                                # http://127.0.0.1:8080/
  wskit chat --port 0                       # on a free port, printed
  wskit chat --port 8081 --redis redis://127.0.0.1:6379`;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'Run a chat app: a web page and its WebSocket server.',
  help: () => HELP,
  async run(argv) {
    const { options: opts, positionals, help } = parseArgs(argv, options);
    if (help) {
      process.stdout.write(`${HELP}\n`);
      return ExitStatus.OK;
    }
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: chat takes only options`);
    }
    return serve(opts);
  },
};

/** The RedisBroker, loaded only when --redis is given (it needs the optional ioredis package). */
async function redisBroker(url: string): Promise<Broker> {
  // A specifier in a variable: the module is loaded (and type-checked) only when --redis is used.
  const specifier = '../pubsub/redis-broker.js';
  const { RedisBroker } = (await import(specifier)) as {
    RedisBroker: new (options: { url: string }) => Broker;
  };
  return new RedisBroker({ url });
}

async function serve(opts: ChatOptions): Promise<number> {
  const log = opts.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  let broker: Broker | undefined;
  if (opts.redis !== undefined) {
    try {
      broker = await redisBroker(opts.redis);
    } catch (err) {
      process.stderr.write(`${NAME}: cannot use Redis at ${opts.redis}: ${describeError(err)}\n`);
      return ExitStatus.FAILED;
    }
  }
  let chat: ChatServer;
  try {
    chat = await ChatServer.listen({ port: opts.port, host: opts.host, broker, log });
  } catch (err) {
    await broker?.close().catch(() => {});
    process.stderr.write(`${NAME}: cannot listen on ${opts.host} port ${opts.port}: ${describeError(err)}\n`);
    return ExitStatus.FAILED;
  }
  const open = ['0.0.0.0', '::'].includes(opts.host) ? `http://localhost:${chat.port}/` : chat.url;
  process.stdout.write(`${NAME} server listening on ${chat.url}\n`);
  process.stdout.write(
    `Open ${open} in a browser (${open}?room=NAME for another room)` +
      `${broker === undefined ? '' : `; rooms shared through ${opts.redis}`}.\n`,
  );

  return new Promise((resolve) => {
    let closing = false;
    const stop = (): void => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      resolve(ExitStatus.OK);
    };
    function shutdown(): void {
      if (closing) {
        stop();
        return;
      }
      closing = true;
      log('shutting down');
      chat
        .close()
        .then(() => broker?.close())
        .catch((err: unknown) => process.stderr.write(`${NAME}: ${describeError(err)}\n`))
        .finally(stop);
    }
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}
