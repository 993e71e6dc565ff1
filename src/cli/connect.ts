/** `wskit connect URL`: an interactive client, like wscat. */
import { isUtf8 } from 'node:buffer';
import { createInterface, type Interface } from 'node:readline';
import { WebSocket, WebSocketError } from '../index.js';
import { defineOptions, formatOptions, type OptionValues, parseArgs, UsageError } from './args.js';
import { ClientOutput } from './client-output.js';
import { type Command, ExitStatus } from './command.js';
import { INPUT_COMMANDS_HELP, type InputAction, parseInputLine } from './connect-input.js';
import { describeError } from './describe-error.js';
import { formatMessage } from './message-format.js';
import { parseByteSize, parseHeader, parseSubprotocol, parseText } from './option-values.js';
import { clientHttp2Option } from './tls-options.js';

const NAME = 'wskit connect';

const options = defineOptions({
  subprotocol: {
    kind: 'list',
    short: 'p',
    placeholder: 'NAME',
    parse: parseSubprotocol,
    description: 'Offer this subprotocol; repeat to offer several, in order of preference.',
  },
  header: {
    kind: 'list',
    short: 'H',
    placeholder: "'NAME: VALUE'",
    parse: parseHeader,
    description: 'Add a header to the opening handshake request; repeatable.',
  },
  origin: {
    kind: 'value',
    short: 'o',
    placeholder: 'ORIGIN',
    parse: parseText,
    description: 'Send this Origin header, e.g. https://example.com. Default: none.',
  },
  check: {
    kind: 'flag',
    default: true,
    description: "Do not verify the server's TLS certificate (wss:): for self-signed test servers only.",
  },
  maxPayload: {
    kind: 'value',
    placeholder: 'N',
    parse: parseByteSize,
    description:
      'Largest message accepted, in bytes; K, M, G suffixes (KiB, MiB, GiB). A bigger one closes the connection with 1009. 0: no limit. Default 100M.',
  },
  proxy: {
    kind: 'value',
    placeholder: 'URL',
    parse: parseText,
    description:
      "Connect through this HTTP(S) proxy (CONNECT), e.g. http://user:password@proxy:3128; 'env' for https_proxy / http_proxy / no_proxy. Default: none.",
  },
  quiet: {
    kind: 'flag',
    short: 'q',
    description: 'No notices on standard error (connected, disconnected): only messages and errors.',
  },
  http2: clientHttp2Option,
});

type ConnectOptions = OptionValues<typeof options>;

const HELP = `\
Usage: wskit connect [options] URL

Connects to a WebSocket server. Each line of standard input is sent as a text
message. Each message received is written to standard output on a line of its
own: text as is, binary as "<binary N bytes: HEX>" (HEX: the first 32 bytes).
When standard output is a terminal, incoming messages start with "< " (and a
"> " prompt is shown if standard input is a terminal too); in a pipe, standard
output carries the messages alone. Notices (connected, pong, disconnected) and
errors go to standard error.

At the end of the input (Ctrl+D), on Ctrl+C or on SIGTERM, the connection is
closed with 1000, and the command exits when the server has answered; a second
Ctrl+C drops the connection at once.

URL: ws://, wss://, http:// or https:// (ws:// when there is no scheme), or
ws+unix:/path/to/socket:/request/path.

Options:
${formatOptions(options)}

Commands (input lines that start with "/"):
${INPUT_COMMANDS_HELP}

Exit status:
  0  the connection closed with code 1000, or 1005 (a Close without a code)
  1  the connection failed: refused, unknown host, TLS error, or the server
     refused the opening handshake
  2  a mistake on the command line
  3  the connection ended abnormally (1006) or with another close code,
     whoever closed it; the code and reason are written to standard error

Examples:
  wskit connect ws://127.0.0.1:8080
  printf 'one\\ntwo\\n' | wskit connect 127.0.0.1:8080 > replies.txt
  wskit connect wss://example.com/chat -p chat.v2 -H 'Authorization: Bearer T'
  wskit connect --no-check wss://localhost:8443
  wskit connect --http2 --no-check wss://localhost:8443  # over HTTP/2`;

export const connectCommand: Command = {
  name: 'connect',
  summary: 'Connect to a server: send input lines, print what comes back.',
  help: () => HELP,
  async run(argv) {
    const { options: opts, positionals, help } = parseArgs(argv, options);
    if (help) {
      process.stdout.write(`${HELP}\n`);
      return ExitStatus.OK;
    }
    if (positionals.length === 0) throw new UsageError('missing the URL to connect to');
    if (positionals.length > 1) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}: give one URL`);
    }
    return connect(withScheme(positionals[0]), opts);
  },
};

/** `host:port/path` means ws://host:port/path, as in wscat. */
function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || url.startsWith('ws+unix:') ? url : `ws://${url}`;
}

/** Headers by name; a name given twice (in any case) gets the values joined with ", ". */
function mergeHeaders(list: [string, string][]): Record<string, string> {
  const headers: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const [name, value] of list) {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

function openWebSocket(url: string, opts: ConnectOptions): WebSocket {
  try {
    return new WebSocket(url, opts.subprotocol, {
      headers: mergeHeaders(opts.header),
      origin: opts.origin,
      rejectUnauthorized: opts.check,
      maxPayload: opts.maxPayload,
      proxy: opts.proxy,
      ...(opts.http2 ? { http2: true } : {}),
    });
  } catch (err) {
    if (
      err instanceof WebSocketError &&
      (err.code === 'WS_ERR_INVALID_URL' || err.code === 'WS_ERR_INVALID_ARGUMENT')
    ) {
      throw new UsageError(describeError(err));
    }
    throw err;
  }
}

function connect(url: string, opts: ConnectOptions): Promise<number> {
  const ws = openWebSocket(url, opts);
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const out = new ClientOutput({ prefix: process.stdout.isTTY === true, quiet: opts.quiet, name: NAME });
  let input: Interface | null = null;
  let inputPaused = false;
  let opened = false;
  let interrupted = false;
  let lastError: unknown = null;

  const send = (data: string | Buffer): void => {
    if (ws.send(data) || input === null || inputPaused) return;
    // Backpressure: stop reading stdin until the send buffer drains.
    inputPaused = true;
    input.pause();
    ws.once('drain', () => {
      inputPaused = false;
      input?.resume();
    });
  };

  const perform = (action: InputAction): void => {
    if (action.type === 'help') {
      out.info(`Commands:\n${INPUT_COMMANDS_HELP}`);
    } else if (action.type === 'invalid') {
      out.error(action.message);
    } else if (ws.readyState !== ws.OPEN) {
      out.error('not sent: the connection is closing');
    } else if (action.type === 'text') {
      send(action.text);
    } else if (action.type === 'binary') {
      send(action.data);
    } else if (action.type === 'ping') {
      ws.ping(action.data);
    } else {
      ws.close(action.code ?? 1000, action.reason);
    }
  };

  const onLine = (line: string): void => {
    try {
      perform(parseInputLine(line));
    } catch (err) {
      out.error(describeError(err));
    }
    if (interactive && ws.readyState === ws.OPEN) input?.prompt();
  };

  const onEndOfInput = (): void => {
    out.removePrompt();
    input = null;
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };

  /** Ctrl+C or SIGTERM: close cleanly; a second one (or one while connecting) drops the connection. */
  const interrupt = (): void => {
    if (!interrupted && ws.readyState === ws.OPEN) {
      interrupted = true;
      out.removePrompt();
      ws.close(1000);
      return;
    }
    interrupted = true;
    ws.terminate();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  ws.on('open', () => {
    opened = true;
    const protocol = ws.protocol === '' ? '' : ` (subprotocol ${ws.protocol})`;
    const hint = interactive ? '; /help lists the commands, Ctrl+D or Ctrl+C closes' : '';
    out.notice(`connected to ${ws.url}${protocol}${hint}`);
    const rl = createInterface({
      input: process.stdin,
      output: interactive ? process.stdout : undefined,
      terminal: interactive,
    });
    input = rl;
    rl.on('line', onLine);
    rl.on('close', onEndOfInput);
    rl.on('SIGINT', interrupt);
    if (interactive) {
      rl.setPrompt('> ');
      out.setPrompt(rl);
      rl.prompt();
    }
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => out.message(formatMessage(data, isBinary)));
  ws.on('pong', (data: Buffer) => {
    out.info(data.length === 0 ? 'pong' : `pong: ${formatMessage(data, !isUtf8(data))}`);
  });
  ws.on('error', (err: Error) => {
    lastError = err;
    if (opened) out.error(describeError(err));
  });

  return new Promise((resolve) => {
    ws.on('close', (code: number, reason: Buffer) => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      out.removePrompt();
      const rl = input;
      input = null;
      rl?.close();
      resolve(closeStatus(code, reason.toString()));
    });
  });

  function closeStatus(code: number, reason: string): number {
    if (!opened) {
      out.error(
        interrupted
          ? `interrupted before the connection to ${url} was established`
          : `cannot connect to ${url}: ${describeError(lastError)}${certificateHint(lastError)}`,
      );
      return ExitStatus.FAILED;
    }
    const why = reason === '' ? '' : `: ${reason}`;
    if (code === 1000 || code === 1005) {
      out.notice(`disconnected (${code}${why})`);
      return ExitStatus.OK;
    }
    // A connection wskit failed (the server broke the protocol) reports 1006: the code it sent is the error's.
    const sent = (lastError as { closeCode?: number } | null)?.closeCode;
    if (code === 1006 && sent !== undefined) {
      out.error(`the connection closed with code ${sent}, sent by wskit (no Close came back: 1006)`);
    } else if (code === 1006) {
      out.error('the connection ended without a closing handshake (1006)');
    } else {
      out.error(`the connection closed with code ${code}${why}`);
    }
    return ExitStatus.CLOSED_ABNORMALLY;
  }
}

function certificateHint(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
    ? ' (--no-check skips certificate verification, for test servers)'
    : '';
}
