/**
 * A small strict command-line parser. Options are declared once (name, kind, value parser, help text);
 * the same declaration parses argv and prints the option table of --help.
 *
 * Accepted forms: `--name value`, `--name=value`, `-n value`, `-nvalue`, `--flag`, `--no-flag`,
 * repeatable list options, `--` to end the options. Anything else is a UsageError (exit status 2).
 */

interface OptionBase {
  /** One-letter alias: `s` for `-s`. */
  short?: string;
  /** One line (or a few) for --help. */
  description: string;
}

/** A boolean. A flag whose default is true is documented (and usually given) as `--no-name`. */
export interface FlagOption extends OptionBase {
  kind: 'flag';
  default?: boolean;
}

/** An option taking one value; given twice it is an error. */
export interface ValueOption<T> extends OptionBase {
  kind: 'value';
  /** The value's name in --help: `N`, `HOST`. */
  placeholder: string;
  /** Converts the text; throws an Error saying what was expected. */
  parse: (raw: string) => T;
  default?: T;
}

/** An option that may be repeated; its values are collected in order. */
export interface ListOption<T> extends OptionBase {
  kind: 'list';
  placeholder: string;
  parse: (raw: string) => T;
}

export type OptionSpec = FlagOption | ValueOption<unknown> | ListOption<unknown>;

/** Options by camelCase name; `maxPayload` is given as `--max-payload`. */
export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S> = S extends FlagOption
  ? boolean
  : S extends ListOption<infer T>
    ? T[]
    : S extends ValueOption<infer T>
      ? S extends { default: T }
        ? T
        : T | undefined
      : never;

export type OptionValues<S extends OptionSpecs> = { [K in keyof S]: ValueOf<S[K]> };

export interface ParsedArgs<S extends OptionSpecs> {
  options: OptionValues<S>;
  positionals: string[];
  /** --help or -h was given: the caller prints help and ignores the rest. */
  help: boolean;
}

/** A mistake on the command line: the message says what is wrong; the command exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Declares options with their types inferred (`defineOptions({ port: { kind: 'value', ... } })`). */
export function defineOptions<const S extends OptionSpecs>(specs: S): S {
  return specs;
}

export function longName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses argv (without the command name) against `specs`. Throws UsageError. */
export function parseArgs<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const byLong = new Map<string, string>();
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byLong.set(longName(name), name);
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }
  const end = argv.indexOf('--');
  const before = end === -1 ? argv : argv.slice(0, end);
  if (before.includes('--help') || before.includes('-h')) {
    return { options: defaults(specs), positionals: [], help: true };
  }

  const values: Record<string, unknown> = defaults(specs);
  const given = new Set<string>();
  const positionals: string[] = [];
  let i = 0;
  const set = (name: string, shown: string, raw: string | undefined, inline: boolean): void => {
    const spec = specs[name];
    if (spec.kind === 'flag') {
      if (raw !== undefined) throw new UsageError(`option ${shown} takes no value`);
      values[name] = true;
      return;
    }
    if (raw === undefined) {
      if (i >= argv.length || argv[i] === '--') throw new UsageError(`option ${shown} needs a value`);
      raw = argv[i++];
      if (!inline && raw.length > 1 && raw.startsWith('-')) {
        throw new UsageError(
          `option ${shown} needs a value, got the option-like ${JSON.stringify(raw)}` +
            ` (to pass a value that starts with "-", write --${longName(name)}=${raw})`,
        );
      }
    }
    let value: unknown;
    try {
      value = spec.parse(raw);
    } catch (err) {
      throw new UsageError(`invalid value ${JSON.stringify(raw)} for ${shown}: ${(err as Error).message}`);
    }
    if (spec.kind === 'list') {
      (values[name] as unknown[]).push(value);
      return;
    }
    if (given.has(name)) throw new UsageError(`option ${shown} was given more than once`);
    given.add(name);
    values[name] = value;
  };

  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const raw = eq === -1 ? undefined : arg.slice(eq + 1);
      const name = byLong.get(key);
      if (name !== undefined) {
        set(name, `--${key}`, raw, raw !== undefined);
        continue;
      }
      const negated = key.startsWith('no-') ? byLong.get(key.slice(3)) : undefined;
      if (negated !== undefined && specs[negated].kind === 'flag') {
        if (raw !== undefined) throw new UsageError(`option --${key} takes no value`);
        values[negated] = false;
        continue;
      }
      throw new UsageError(`unknown option --${key}${suggest(key, specs)}`);
    }
    if (arg.startsWith('-') && arg.length > 1) {
      const name = byShort.get(arg[1]);
      if (name === undefined) throw new UsageError(`unknown option ${arg.slice(0, 2)}`);
      const rest = arg.slice(2);
      if (specs[name].kind === 'flag' && rest !== '') {
        throw new UsageError(`option -${arg[1]} takes no value (give short options separately)`);
      }
      set(name, `-${arg[1]}`, rest === '' ? undefined : rest.replace(/^=/, ''), rest !== '');
      continue;
    }
    positionals.push(arg);
  }
  return { options: values as OptionValues<S>, positionals, help: false };
}

function defaults<S extends OptionSpecs>(specs: S): OptionValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.kind === 'flag' ? (spec.default ?? false) : spec.kind === 'list' ? [] : spec.default;
  }
  return values as OptionValues<S>;
}

/** " (did you mean --port?)" when an option is one or two typos away from `key`, else "". */
function suggest(key: string, specs: OptionSpecs): string {
  const names = ['help'];
  for (const [name, spec] of Object.entries(specs)) {
    names.push(longName(name));
    if (spec.kind === 'flag') names.push(`no-${longName(name)}`);
  }
  let best = '';
  let bestDistance = 3;
  for (const name of names) {
    const d = editDistance(key, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best === '' ? '' : ` (did you mean --${best}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Columns of the --help texts. */
export const HELP_WIDTH = 80;

/** The option table of --help, one entry per option then -h, --help; descriptions wrapped to fit. */
export function formatOptions(specs: OptionSpecs): string {
  const rows: [string, string][] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const long = spec.kind === 'flag' && spec.default === true ? `no-${longName(name)}` : longName(name);
    let left = spec.short === undefined ? `    --${long}` : `-${spec.short}, --${long}`;
    if (spec.kind !== 'flag') left += ` ${spec.placeholder}`;
    rows.push([left, spec.description]);
  }
  rows.push(['-h, --help', 'Show this help and exit.']);
  const width = Math.min(Math.max(...rows.map(([left]) => left.length)), 30);
  const indent = ' '.repeat(width + 4);
  const lines: string[] = [];
  for (const [left, description] of rows) {
    const [first, ...more] = wrap(description, HELP_WIDTH - indent.length);
    if (left.length > width) lines.push(`  ${left}`, `${indent}${first}`);
    else lines.push(`  ${left.padEnd(width)}  ${first}`);
    for (const line of more) lines.push(`${indent}${line}`);
  }
  return lines.join('\n');
}

/** Splits text into lines of at most `width` characters, at spaces (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
