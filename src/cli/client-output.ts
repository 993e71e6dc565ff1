import { clearLine, cursorTo, type Interface } from 'node:readline';

export interface ClientOutputOptions {
  /** Put "< " before incoming messages (when stdout is a terminal). */
  prefix: boolean;
  /** Leave out notices (connected, pong, closed); errors are always written. */
  quiet: boolean;
  /** Starts every error line: "wskit connect". */
  name: string;
}

/**
 * Where `wskit connect` writes: incoming messages on stdout, one per line; notices and errors on stderr.
 * While a prompt is shown, each line is written over it and the prompt (with what was typed) redrawn.
 */
export class ClientOutput {
  private readonly options: ClientOutputOptions;
  private prompt: Interface | null = null;

  constructor(options: ClientOutputOptions) {
    this.options = options;
  }

  /** The readline interface showing a prompt on stdout. */
  setPrompt(prompt: Interface): void {
    this.prompt = prompt;
  }

  /** No more prompt: erases the one shown, so that what follows starts a clean line. */
  removePrompt(): void {
    if (this.prompt === null) return;
    this.prompt = null;
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
  }

  message(text: string): void {
    this.write(process.stdout, this.options.prefix ? `< ${text.replaceAll('\n', '\n  ')}` : text);
  }

  notice(text: string): void {
    if (!this.options.quiet) this.write(process.stderr, text);
  }

  /** Written even when quiet: what the user asked for (/help, a Pong). */
  info(text: string): void {
    this.write(process.stderr, text);
  }

  error(text: string): void {
    this.write(process.stderr, `${this.options.name}: ${text}`);
  }

  private write(stream: NodeJS.WriteStream, text: string): void {
    const prompt = this.prompt;
    if (prompt !== null) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
    }
    stream.write(`${text}\n`);
    if (prompt !== null) prompt.prompt(true);
  }
}
