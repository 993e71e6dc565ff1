/** What the server commands (echo, broadcast, chat) share: their common options, and running until a signal. */
import type { FlagOption, ValueOption } from './args.js';
import { type OptionSpecs, type OptionValues, parseArgs, UsageError } from './args.js';
import { ExitStatus } from './command.js';
import { parseByteSize, parsePort, parseText } from './option-values.js';

export const portOption: ValueOption<number> & { default: number } = {
  kind: 'value',
  placeholder: 'PORT',
  parse: parsePort,
  default: 8080,
  description: 'Port to listen on; 0 picks a free port (the URL printed shows which). Default 8080.',
};

export const hostOption: ValueOption<string> & { default: string } = {
  kind: 'value',
  placeholder: 'HOST',
  parse: parseText,
  default: '127.0.0.1',
  description: 'Address to listen on; 0.0.0.0 or :: for every interface. Default 127.0.0.1.',
};

export const maxPayloadOption: ValueOption<number> = {
  kind: 'value',
  placeholder: 'N',
  parse: parseByteSize,
  description:
    'Largest message accepted, in bytes; K, M, G suffixes (KiB, MiB, GiB). A bigger one closes the connection with 1009. 0: no limit. Default 100M.',
};

export const deflateOption: FlagOption & { default: true } = {
  kind: 'flag',
  default: true,
  description: 'Do not negotiate permessage-deflate compression.',
};

/**
 * Parses the arguments of a command that takes only options. Returns null when --help was given
 * (the help is printed); throws a UsageError for a positional argument.
 */
export function parseOptionsOnly<S extends OptionSpecs>(
  argv: readonly string[],
  options: S,
  help: string,
  command: string,
): OptionValues<S> | null {
  const parsed = parseArgs(argv, options);
  if (parsed.help) {
    process.stdout.write(`${help}\n`);
    return null;
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[0])}: ${command} takes only options`,
    );
  }
  return parsed.options;
}

/** ws://host:port/path, with brackets around an IPv6 host. */
export function wsUrl(host: string, port: number, path = ''): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

/**
 * Resolves with exit status 0 once SIGINT or SIGTERM has stopped the server: the first signal calls
 * `shutdown` (graceful: close with 1001, wait for the closing handshakes), a second one `force`
 * (drop what is left). `close(status)` shuts down gracefully with another status; `fail(status)`
 * ends at once (e.g. the port is taken and nothing was served).
 */
export function runUntilSignal(
  shutdown: () => Promise<void>,
  force: () => void,
): { done: Promise<number>; close: (status: number) => void; fail: (status: number) => void } {
  let resolve!: (status: number) => void;
  const done = new Promise<number>((r) => {
    resolve = r;
  });
  let closing = false;
  const stop = (status: number): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    resolve(status);
  };
  const close = (status: number): void => {
    if (closing) {
      force();
      return;
    }
    closing = true;
    shutdown().finally(() => stop(status));
  };
  function onSignal(): void {
    close(ExitStatus.OK);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { done, close, fail: stop };
}
