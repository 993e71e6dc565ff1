/** The `wskit` command: dispatches to a subcommand. bin/wskit.js calls run(process.argv.slice(2)). */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { broadcastCommand } from './broadcast.js';
import { chatCommand } from './chat.js';
import { type Command, ExitStatus } from './command.js';
import { connectCommand } from './connect.js';
import { describeError } from './describe-error.js';
import { echoCommand } from './echo.js';

const COMMANDS: readonly Command[] = [echoCommand, connectCommand, broadcastCommand, chatCommand];

/** A command name longer than this gets a line of its own, rather than pushing every summary right. */
const NAME_COLUMN = 8;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length).filter((n) => n <= NAME_COLUMN));
  const commands = COMMANDS.map((c) =>
    c.name.length > width
      ? `  ${c.name}\n  ${' '.repeat(width)}  ${c.summary}`
      : `  ${c.name.padEnd(width)}  ${c.summary}`,
  ).join('\n');
  return `\
Usage: wskit <command> [options]

Commands:
${commands}

Options:
  -h, --help     Show this help. "wskit <command> --help" shows the options
                 of a command.
  -v, --version  Show the version of wskit.

Exit status:
  0  success
  1  failure: no connection, cannot listen
  2  a mistake on the command line
  3  a connection that ended abnormally or with a close code other than 1000

Examples:
  wskit echo --port 8080
  wskit connect ws://127.0.0.1:8080
  wskit broadcast --redis redis://127.0.0.1:6379
  wskit chat --port 8080`;
}

/** The version in wskit's package.json (two folders up from both src/cli/ and dist/cli/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs a command line (without "node wskit"); resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    process.stdout.write(`${usage()}\n`);
    return ExitStatus.OK;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return ExitStatus.OK;
  }
  if (first === 'help') return main([rest[0], '--help']);
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    const problem =
      first === undefined
        ? 'missing the command'
        : first.startsWith('-')
          ? `unknown option ${first}`
          : `unknown command "${first}"`;
    process.stderr.write(`wskit: ${problem}\n\n${usage()}\n`);
    return ExitStatus.USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `wskit ${command.name}: ${err.message}\nRun "wskit ${command.name} --help" for the options.\n`,
      );
      return ExitStatus.USAGE;
    }
    process.stderr.write(`wskit ${command.name}: ${describeError(err)}\n`);
    return ExitStatus.FAILED;
  }
}

/** Runs main(), then exits with its status once standard output and error are flushed. */
export async function run(argv: readonly string[]): Promise<never> {
  // A reader that went away (`wskit echo | head -1`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(ExitStatus.OK);
  });
  const status = await main(argv);
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(status);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
