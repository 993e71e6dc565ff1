// The load generator's open-loop and idle-connection options (bench/loadgen/loadgen.c: --rate,
// --sources, --hold-stdin), against a ws echo server in this process. Built here, into a temporary
// folder, with the warning flags of its Makefile; the build must print nothing. Nothing here asserts
// speed: the pacing checks compare the messages started with the schedule (which does not depend on
// how fast anything is), and the stalled-server check asserts latency that a forced stall adds.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const SOURCE = fileURLToPath(new URL('../../bench/loadgen/loadgen.c', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wskit-loadgen-'));
const LOADGEN = join(dir, 'loadgen');

function build(): { ok: boolean; why: string } {
  const cc = process.env.CC || 'cc';
  const flags = ['-O2', '-Wall', '-Wextra'];
  let r = spawnSync(cc, [...flags, '-DWITH_ZLIB', '-o', LOADGEN, SOURCE, '-lz'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `no C compiler (${cc})` };
  if (r.status !== 0 && /zlib/.test(r.stderr)) {
    r = spawnSync(cc, [...flags, '-o', LOADGEN, SOURCE], { encoding: 'utf8' });
  }
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', `the build must be warnings-clean:\n${r.stderr}`);
  return { ok: true, why: '' };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, number>;
}

function parseResult(stdout: string): Record<string, number> {
  const line = stdout.split('\n').findLast((l) => l.startsWith('RESULT ')) ?? '';
  const out: Record<string, number> = {};
  for (const pair of line.slice(7).trim().split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = Number(pair.slice(eq + 1));
  }
  return out;
}

/** Runs the load generator; `onLine` sees each stdout line (and may write to its stdin). */
function loadgen(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onLine?: (line: string, stdin: NodeJS.WritableStream) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(LOADGEN, args, { env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      const lines = (partial + c).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLine?.(l, child.stdin);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, result: parseResult(stdout) });
    });
  });
}

/** An echo server on every path, broadcast on /broadcast; `onMessage` runs before each echo. */
function echoServer(onMessage: (count: number) => void = () => {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const remotes = new Set<string>();
  let count = 0;
  wss.on('connection', (ws, req) => {
    remotes.add(req.socket.remoteAddress ?? '');
    ws.on('message', (data, isBinary) => {
      onMessage(++count);
      if (req.url === '/broadcast') for (const c of wss.clients) c.send(data, { binary: isBinary });
      else ws.send(data, { binary: isBinary });
    });
  });
  return new Promise<{ url: string; remotes: Set<string>; close: () => Promise<void> }>((resolve) => {
    wss.on('listening', () => {
      const { port } = wss.address() as AddressInfo;
      resolve({
        url: `ws://127.0.0.1:${port}`,
        remotes,
        close: () => new Promise((done) => wss.close(() => done())),
      });
    });
  });
}

const built = (() => {
  try {
    return build();
  } catch (error) {
    return { ok: true, why: '', error };
  }
})();

describe('bench/loadgen: --rate, --sources, --hold-stdin', { skip: !built.ok && built.why }, () => {
  let server: Awaited<ReturnType<typeof echoServer>>;
  before(async () => {
    server = await echoServer();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds warnings-clean', () => {
    assert.equal(
      (built as { error?: unknown }).error,
      undefined,
      String((built as { error?: unknown }).error),
    );
  });

  for (const timerfd of [false, true]) {
    it(`echo --rate sends on the schedule, not in a closed loop${timerfd ? ' (timerfd fallback)' : ''}`, async () => {
      const run = await loadgen(
        [
          'echo',
          `${server.url}/`,
          '--conns',
          '4',
          '--size',
          '32',
          '--rate',
          '400',
          '--duration',
          '1',
          '--warmup',
          '0.2',
        ],
        { env: timerfd ? { LOADGEN_TIMERFD: '1' } : {} },
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const r = run.result;
      assert.equal(r.offered_per_s, 400);
      assert.equal(r.inflight, 256, 'with --rate, --inflight defaults to the bound on outstanding messages');
      // The window holds 400 due times; a late turn of the loop sends what is due all at once.
      assert.ok(Math.abs(r.sent_per_s - 400) <= 400 * 0.2, `sent ${r.sent_per_s}/s of 400 offered`);
      assert.ok(r.msgs > 0 && r.msgs <= 400 * 1.2 * r.duration_s, `${r.msgs} echoes`);
      assert.match(run.stdout, /^rate: 400 messages\/s offered \(open loop\)/m);
      for (const key of ['lag_p50_us', 'lag_p99_us', 'lag_max_us']) assert.ok(Number.isFinite(r[key]), key);
    });
  }

  it('broadcast --rate: connection 0 sends at the rate, every receiver gets each message', async () => {
    const run = await loadgen([
      'broadcast',
      `${server.url}/broadcast`,
      '--conns',
      '20',
      '--size',
      '32',
      '--rate',
      '50',
      '--duration',
      '1',
      '--warmup',
      '0.2',
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.result.offered_per_s, 50);
    assert.ok(Math.abs(run.result.sent_per_s - 50) <= 10, `sent ${run.result.sent_per_s}/s of 50`);
    assert.ok(run.result.msgs > 0 && run.result.msgs % 1 === 0);
  });

  it('latency counts from the due time: a stalled server shows the whole stall', async () => {
    // The server blocks its event loop for 400 ms at its 300th message. Messages due during the stall
    // are sent on time (the socket buffers take them) and answered after it: their latency, counted
    // from when they were due, spans the stall. A closed loop would have sent one per connection.
    const stalled = await echoServer((count) => {
      if (count === 300) {
        const until = performance.now() + 400;
        while (performance.now() < until) {
          // a busy server
        }
      }
    });
    try {
      const run = await loadgen([
        'echo',
        `${stalled.url}/`,
        '--conns',
        '2',
        '--rate',
        '500',
        '--duration',
        '1.5',
        '--warmup',
        '0.2',
      ]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const r = run.result;
      // ~200 of the ~750 measured messages were due during the stall, spread over its 400 ms
      assert.ok(r.p90_us >= 100_000, `p90 ${r.p90_us} µs`);
      assert.ok(r.max_us >= 300_000, `max ${r.max_us} µs`);
      assert.ok(r.lag_p50_us < r.p90_us, 'the load generator itself was not the one behind');
    } finally {
      await stalled.close();
    }
  });

  it('connect --sources --hold-stdin: bound to the source addresses, held until stdin says', async () => {
    let openLine = '';
    const remotesAtOpen: string[] = [];
    const run = await loadgen(
      ['connect', `${server.url}/`, '--conns', '60', '--sources', '127.0.0.2,127.0.0.3', '--hold-stdin'],
      {
        onLine: (line, stdin) => {
          if (!line.startsWith('OPEN ')) return;
          openLine = line;
          remotesAtOpen.push(...server.remotes);
          stdin.end();
        },
      },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(openLine, 'OPEN open=60 failed=0');
    assert.ok(remotesAtOpen.includes('127.0.0.2') && remotesAtOpen.includes('127.0.0.3'), `${remotesAtOpen}`);
    assert.equal(run.result.open, 60);
    assert.equal(run.result.close_clean, 60);
    assert.equal(run.result.dropped, 0);
  });

  for (const [args, message] of [
    [['echo', 'ws://127.0.0.1:9/', '--rate', '0'], /bad rate/],
    [['connect', 'ws://127.0.0.1:9/', '--rate', '100'], /--rate is for echo and broadcast/],
    [['echo', 'ws://127.0.0.1:9/', '--hold-stdin'], /--hold-stdin is for connect/],
    [['connect', 'ws://127.0.0.1:9/', '--sources', '10.0.0.1'], /127\.0\.0\.0\/8/],
  ] as const) {
    it(`refuses ${args.slice(2).join(' ')} with exit status 2`, async () => {
      const run = await loadgen([...args]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, message);
    });
  }
});
