// The argument parser and the value parsers of the command line, in process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineOptions, formatOptions, parseArgs, UsageError } from '../../src/cli/args.js';
import { parseInputLine } from '../../src/cli/connect-input.js';
import { formatMessage, parseBinaryArgument } from '../../src/cli/message-format.js';
import { parseByteSize, parseHeader, parsePort } from '../../src/cli/option-values.js';

const specs = defineOptions({
  port: { kind: 'value', placeholder: 'PORT', parse: parsePort, default: 8080, description: 'Port.' },
  maxPayload: { kind: 'value', placeholder: 'N', parse: parseByteSize, description: 'Limit.' },
  header: { kind: 'list', short: 'H', placeholder: 'H', parse: parseHeader, description: 'Header.' },
  check: { kind: 'flag', default: true, description: 'No check.' },
  quiet: { kind: 'flag', short: 'q', description: 'Quiet.' },
});

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseArgs(argv, specs),
    (err: unknown) => err instanceof UsageError && message.test(err.message),
  );
}

describe('parseArgs', () => {
  it('gives the defaults when nothing is given', () => {
    const { options, positionals, help } = parseArgs([], specs);
    assert.deepEqual(options, { port: 8080, maxPayload: undefined, header: [], check: true, quiet: false });
    assert.deepEqual(positionals, []);
    assert.equal(help, false);
  });

  it('reads --name value, --name=value, -x value, -xvalue, --flag, --no-flag and positionals', () => {
    const { options, positionals } = parseArgs(
      ['a', '--port', '1', '--max-payload=2K', '-H', 'A: 1', '-HB: 2', '-H=C: 3', '--no-check', '-q', 'b'],
      specs,
    );
    assert.equal(options.port, 1);
    assert.equal(options.maxPayload, 2048);
    assert.deepEqual(options.header, [
      ['A', '1'],
      ['B', '2'],
      ['C', '3'],
    ]);
    assert.equal(options.check, false);
    assert.equal(options.quiet, true);
    assert.deepEqual(positionals, ['a', 'b']);
  });

  it('takes everything after -- as positionals', () => {
    const { options, positionals } = parseArgs(['--quiet', '--', '--port', '-h'], specs);
    assert.equal(options.quiet, true);
    assert.deepEqual(positionals, ['--port', '-h']);
  });

  it('reports --help or -h, whatever else is given', () => {
    assert.equal(parseArgs(['--bogus', '-h'], specs).help, true);
    assert.equal(parseArgs(['--help'], specs).help, true);
  });

  it('refuses unknown options, suggesting a near one', () => {
    usageError(['--prot', '1'], /^unknown option --prot \(did you mean --port\?\)$/);
    usageError(['--no-chek'], /did you mean --no-check\?/);
    usageError(['--zzzzzz'], /^unknown option --zzzzzz$/);
    usageError(['-z'], /^unknown option -z$/);
  });

  it('refuses missing, option-like, repeated and bad values', () => {
    usageError(['--port'], /^option --port needs a value$/);
    usageError(['--port', '--', 'x'], /^option --port needs a value$/);
    usageError(['--port', '-q'], /option-like "-q".*--port=-q/);
    usageError(['--port', '1', '--port=2'], /^option --port was given more than once$/);
    usageError(['--port', 'x'], /^invalid value "x" for --port: expected a port number from 0 to 65535$/);
    usageError(['-H', 'nope'], /^invalid value "nope" for -H: expected a header/);
  });

  it('refuses a value for a flag, and --no- for an option that is not a flag', () => {
    usageError(['--quiet=1'], /^option --quiet takes no value$/);
    usageError(['--no-check=1'], /^option --no-check takes no value$/);
    usageError(['-qq'], /^option -q takes no value/);
    usageError(['--no-port'], /^unknown option --no-port/);
  });

  it('formats the option table for --help', () => {
    const table = formatOptions(specs);
    assert.match(table, /^ {6}--port PORT {6}Port\.$/m);
    assert.match(table, /^ {2}-H, --header H {7}Header\.$/m);
    assert.match(table, /^ {6}--no-check {7}No check\.$/m);
    assert.match(table, /^ {2}-h, --help {11}Show this help and exit\.$/m);
  });
});

describe('option values', () => {
  it('parses ports from 0 to 65535', () => {
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('65535'), 65535);
    for (const bad of ['', '-1', '65536', '80a', '1e3', ' 80']) assert.throws(() => parsePort(bad), bad);
  });

  it('parses byte sizes with K, M, G suffixes as powers of 1024', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['1500', 1500],
      ['64K', 65536],
      ['64k', 65536],
      ['64KiB', 65536],
      ['1.5M', 1572864],
      ['1mib', 1048576],
      ['2G', 2147483648],
      ['10B', 10],
    ];
    for (const [raw, bytes] of cases) assert.equal(parseByteSize(raw), bytes, raw);
    for (const bad of ['', 'K', '-1', '1T', '1.5', '0.1K', '1e6', '1 000']) {
      assert.throws(() => parseByteSize(bad), bad);
    }
  });

  it('parses headers as "Name: value"', () => {
    assert.deepEqual(parseHeader('Authorization: Bearer a:b'), ['Authorization', 'Bearer a:b']);
    assert.deepEqual(parseHeader('X-Empty:'), ['X-Empty', '']);
    for (const bad of ['NoColon', ': value', 'Bad Name: x']) assert.throws(() => parseHeader(bad), bad);
  });
});

describe('connect input and output', () => {
  it('turns lines into messages and commands', () => {
    assert.deepEqual(parseInputLine('hello'), { type: 'text', text: 'hello' });
    assert.deepEqual(parseInputLine(''), { type: 'text', text: '' });
    assert.deepEqual(parseInputLine('//etc/passwd'), { type: 'text', text: '/etc/passwd' });
    assert.deepEqual(parseInputLine('/ping'), { type: 'ping', data: '' });
    assert.deepEqual(parseInputLine('/ping are you there'), { type: 'ping', data: 'are you there' });
    assert.deepEqual(parseInputLine('/close'), { type: 'close' });
    assert.deepEqual(parseInputLine('/close 4000'), { type: 'close', code: 4000 });
    assert.deepEqual(parseInputLine('/close 4000 good bye'), {
      type: 'close',
      code: 4000,
      reason: 'good bye',
    });
    assert.equal(parseInputLine('/close soon').type, 'invalid');
    assert.deepEqual(parseInputLine('/help'), { type: 'help' });
    assert.equal(parseInputLine('/quit').type, 'invalid');
    assert.deepEqual(parseInputLine('/binary 00 ff'), { type: 'binary', data: Buffer.from([0, 0xff]) });
  });

  it('reads /binary data as hex digit pairs, or else as text', () => {
    assert.deepEqual(parseBinaryArgument('0102ff'), Buffer.from([1, 2, 0xff]));
    assert.deepEqual(parseBinaryArgument('01 02  FF'), Buffer.from([1, 2, 0xff]));
    assert.deepEqual(parseBinaryArgument('abc'), Buffer.from('abc'));
    assert.deepEqual(parseBinaryArgument('hello'), Buffer.from('hello'));
    assert.deepEqual(parseBinaryArgument(''), Buffer.alloc(0));
  });

  it('shows text as is and binary as a size and a hex preview', () => {
    assert.equal(formatMessage(Buffer.from('héllo\nthere'), false), 'héllo\nthere');
    assert.equal(formatMessage(Buffer.alloc(0), true), '<binary 0 bytes>');
    assert.equal(formatMessage(Buffer.from([0xff]), true), '<binary 1 byte: ff>');
    assert.equal(formatMessage(Buffer.alloc(32, 1), true), `<binary 32 bytes: ${'01 '.repeat(32).trim()}>`);
    assert.equal(
      formatMessage(Buffer.alloc(33, 1), true),
      `<binary 33 bytes: ${'01 '.repeat(32).trim()} ...>`,
    );
  });
});
