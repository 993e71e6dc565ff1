// A small run of the connection-churn soak (bench/soak/soak.mjs, docs/soak.md): 2,000 connections
// from two load generators and two source addresses against the server built in dist/ (npm test
// builds it first). It checks the machinery (every connection handshakes, echoes and closes cleanly,
// the server accepted each one, the memory samples are taken), not flatness: at this size RSS is
// mostly V8 and malloc settling, so the tolerance is wide here; the real run is `npm run soak`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface SoakResult {
  ok: boolean;
  connections: number;
  accepted: number;
  failed: number;
  samples: { label: string; open: number; rss: number; heapUsed: number }[];
}

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/soak/soak.mjs', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run soak, small', () => {
  it('2,000 connections: all clean, all accepted, memory sampled at start, warm-up and end', {
    skip: !existsSync(`${ROOT}dist/index.js`) && 'dist/ is not built',
  }, async () => {
    const { code, stdout, stderr } = await soak([
      '--connections',
      '2000',
      '--concurrency',
      '200',
      '--generators',
      '2',
      '--sources',
      '2',
      '--warmup',
      '1000',
      '--interval',
      '1',
      '--rss-slack',
      '128',
      '--heap-slack',
      '16',
    ]);
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `no RESULT line; stderr: ${stderr}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as SoakResult;
    assert.equal(result.connections, 2000);
    assert.equal(result.failed, 0, stdout);
    assert.equal(result.accepted, 2000);
    assert.deepEqual(
      result.samples.filter((s) => s.label !== 'running').map((s) => [s.label, s.open]),
      [
        ['start', 0],
        ['warm-up', 0],
        ['end', 0],
      ],
    );
    assert.ok(result.samples.every((s) => s.rss > 0 && s.heapUsed > 0));
    assert.equal(result.ok, true, stdout);
    assert.equal(code, 0, stderr);
  });

  it('refuses a bad option with exit status 2', async () => {
    const { code, stderr } = await soak(['--connections', 'many']);
    assert.equal(code, 2);
    assert.match(stderr, /--connections needs a number/);
  });
});
