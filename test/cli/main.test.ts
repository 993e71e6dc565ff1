// The command line itself: help, version, argument errors, the bin shim. Each runs `node bin/wskit.js`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { runWskit, stopAll } from './helpers.js';

afterEach(stopAll);

const ECHO_OPTIONS = [
  '--port PORT',
  '--host HOST',
  '--path PATH',
  '--max-payload N',
  '--no-deflate',
  '-q, --quiet',
];
const CONNECT_OPTIONS = [
  '-p, --subprotocol NAME',
  "-H, --header 'NAME: VALUE'",
  '-o, --origin ORIGIN',
  '--no-check',
  '--max-payload N',
  '-q, --quiet',
];

describe('wskit --help and --version', () => {
  for (const flag of ['--help', '-h', 'help']) {
    it(`wskit ${flag} lists the commands on stdout`, async () => {
      const exit = await runWskit([flag]);
      assert.equal(exit.status, 0);
      assert.match(exit.stdout, /^Usage: wskit <command> \[options\]/);
      assert.match(exit.stdout, /^ {2}echo {5}Run a WebSocket echo server/m);
      assert.match(exit.stdout, /^ {2}connect {2}Connect to a server: send input lines/m);
      assert.equal(exit.stderr, '');
    });
  }

  it('wskit echo --help documents every option and the exit statuses', async () => {
    const exit = await runWskit(['echo', '--help']);
    assert.equal(exit.status, 0);
    assert.match(exit.stdout, /^Usage: wskit echo \[options\]/);
    for (const option of [...ECHO_OPTIONS, '-h, --help']) assert.ok(exit.stdout.includes(option), option);
    assert.match(exit.stdout, /Exit status:/);
  });

  it('wskit connect --help documents every option, the commands and the exit statuses', async () => {
    const exit = await runWskit(['connect', '--help']);
    assert.equal(exit.status, 0);
    assert.match(exit.stdout, /^Usage: wskit connect \[options\] URL/);
    for (const option of [...CONNECT_OPTIONS, '-h, --help']) assert.ok(exit.stdout.includes(option), option);
    for (const command of ['/ping', '/close', '/binary', '/help', '//TEXT']) {
      assert.ok(exit.stdout.includes(command), command);
    }
    for (const status of ['0', '1', '2', '3'])
      assert.match(exit.stdout, new RegExp(`^ {2}${status} {2}`, 'm'));
  });

  it('every help text fits in 80 columns', async () => {
    for (const args of [['--help'], ['echo', '--help'], ['connect', '--help']]) {
      const { stdout } = await runWskit(args);
      for (const line of stdout.split('\n')) assert.ok(line.length <= 80, `wskit ${args.join(' ')}: ${line}`);
    }
  });

  it('help wins over the other arguments, and "wskit help connect" is "wskit connect --help"', async () => {
    const exit = await runWskit(['echo', '--port', 'nope', '--help']);
    assert.equal(exit.status, 0);
    assert.match(exit.stdout, /^Usage: wskit echo/);
    assert.match((await runWskit(['help', 'connect'])).stdout, /^Usage: wskit connect/);
  });

  it('wskit --version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const exit = await runWskit([flag]);
      assert.equal(exit.status, 0);
      assert.equal(exit.stdout, `${version}\n`);
    }
  });
});

describe('command-line mistakes exit with 2 and a message on stderr', () => {
  const cases: [string[], RegExp][] = [
    [[], /^wskit: missing the command\n\nUsage: wskit/],
    [['serve'], /^wskit: unknown command "serve"\n\nUsage: wskit/],
    [['--bogus'], /^wskit: unknown option --bogus\n/],
    [['echo', '--prot', '80'], /^wskit echo: unknown option --prot \(did you mean --port\?\)\n/],
    [['echo', '--port', 'http'], /^wskit echo: invalid value "http" for --port: expected a port number/],
    [['echo', '--port=70000'], /^wskit echo: invalid value "70000" for --port/],
    [['echo', '--port'], /^wskit echo: option --port needs a value\n/],
    [
      ['echo', '--port', '--quiet'],
      /^wskit echo: option --port needs a value, got the option-like "--quiet"/,
    ],
    [['echo', '--port', '1', '--port', '2'], /^wskit echo: option --port was given more than once/],
    [['echo', '--max-payload', '10X'], /^wskit echo: invalid value "10X" for --max-payload/],
    [
      ['echo', '--max-payload', '0.1'],
      /^wskit echo: invalid value "0.1" for --max-payload: expected a whole/,
    ],
    [
      ['echo', '--path', 'ws'],
      /^wskit echo: invalid value "ws" for --path: expected a path starting with "\/"/,
    ],
    [['echo', '--quiet=yes'], /^wskit echo: option --quiet takes no value/],
    [['echo', '--no-port'], /^wskit echo: unknown option --no-port/],
    [['echo', 'extra'], /^wskit echo: unexpected argument "extra"/],
    [['connect'], /^wskit connect: missing the URL to connect to\n/],
    [['connect', 'ws://a', 'ws://b'], /^wskit connect: unexpected argument "ws:\/\/b": give one URL/],
    [['connect', '-x', 'ws://a'], /^wskit connect: unknown option -x\n/],
    [
      ['connect', '-H', 'no colon', 'ws://a'],
      /^wskit connect: invalid value "no colon" for -H: expected a header/,
    ],
    [
      ['connect', '-p', 'two words', 'ws://a'],
      /^wskit connect: invalid value "two words" for -p: expected a token/,
    ],
    [
      ['connect', 'ftp://example.com'],
      /^wskit connect: The URL's protocol must be one of .* \(ftp:\/\/example\.com\/ has the protocol ftp:\)/,
    ],
  ];
  for (const [args, message] of cases) {
    it(`wskit ${args.join(' ')}`, async () => {
      const exit = await runWskit(args);
      assert.equal(exit.status, 2, exit.stderr);
      assert.match(exit.stderr, message);
      assert.equal(exit.stdout, '');
    });
  }

  it('a command error ends with a pointer to the help', async () => {
    const exit = await runWskit(['connect', '--no-chek', 'ws://a']);
    assert.equal(exit.status, 2);
    assert.match(exit.stderr, /did you mean --no-check\?\)\nRun "wskit connect --help" for the options\.\n$/);
  });
});

describe('bin/wskit.js', () => {
  it('says to build when dist/ is missing, and exits with 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wskit-bin-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(new URL('../../bin/wskit.js', import.meta.url), join(dir, 'bin', 'wskit.js'));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'wskit.js'), '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /is missing: the command is not built\.\nRun "npm run build" \(or "npm ci"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
