/** What every `wskit` subcommand provides, and the exit statuses they share. */

/** Exit statuses of the wskit command (docs/cli.md). */
export const ExitStatus = {
  /** Done: a server shut down on a signal, a connection closed with 1000 or 1005. */
  OK: 0,
  /** Could not do the job: a connection that failed, a port that could not be listened on. */
  FAILED: 1,
  /** A mistake on the command line. */
  USAGE: 2,
  /** The connection was open, then ended abnormally (1006) or with a close code other than 1000/1005. */
  CLOSED_ABNORMALLY: 3,
} as const;

export interface Command {
  name: string;
  /** One line for `wskit --help`. */
  summary: string;
  /** The text of `wskit <name> --help`. */
  help(): string;
  /** Runs the command; resolves with the exit status. Throws UsageError for a bad command line. */
  run(argv: readonly string[]): Promise<number>;
}
