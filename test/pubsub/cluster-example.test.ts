// examples/cluster.mjs: workers sharing one port, topics across them through a Redis of the test's own.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { client, next, runCleanups, within } from '../node/helpers.js';
import { Inbox, RedisServer, stopProcesses } from './redis-helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/cluster.mjs', import.meta.url));

afterEach(runCleanups);
after(stopProcesses);

/** The example's output lines, and a way to wait for one. */
function lines(child: ChildProcess) {
  const seen: string[] = [];
  let waiters: (() => void)[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      seen.push(line);
      const current = waiters;
      waiters = [];
      for (const w of current) w();
    });
  }
  return {
    seen,
    /** Resolves with the first line from index `from` on that matches. */
    waitFor(pattern: RegExp, from = 0, ms = 15_000): Promise<{ match: RegExpMatchArray; index: number }> {
      return within(
        new Promise((resolve) => {
          const check = () => {
            for (let i = from; i < seen.length; i++) {
              const match = seen[i].match(pattern);
              if (match !== null) return resolve({ match, index: i });
            }
            waiters.push(check);
          };
          check();
        }),
        `a line matching ${pattern}; got:\n${seen.join('\n')}`,
        ms,
      );
    },
  };
}

describe('examples/cluster.mjs', () => {
  it('workers on one port deliver a topic to the clients of every worker', async (t) => {
    const redis = await RedisServer.start();
    t.after(() => redis.kill());
    const monitor = await redis.monitor();
    t.after(() => monitor.stop());
    const child = spawn(process.execPath, [EXAMPLE, '2', '0'], {
      env: { ...process.env, REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(async () => {
      if (child.exitCode !== null) return;
      const exited = next(child, 'exit');
      child.kill('SIGKILL'); // the primary; its workers notice their IPC channel closing and exit
      await exited;
    });
    const out = lines(child);
    const { match } = await out.waitFor(/^listening on (ws:\/\/127\.0\.0\.1:\d+) with 2 workers$/);
    const url = match[1];
    await out.waitFor(/^worker 1: connected to Redis/);
    await out.waitFor(/^worker 2: connected to Redis/);

    // node:cluster hands connections to the workers in turn: connect until both have a client.
    const joined = new Map<string, Inbox>();
    for (let i = 0; i < 6 && joined.size < 2; i++) {
      const ws = client(`${url}/room`);
      const inbox = new Inbox(ws);
      const from = out.seen.length;
      await next(ws, 'open');
      const { match: worker } = await out.waitFor(/^(worker \d+): a client joined \/room$/, from);
      if (!joined.has(worker[1])) joined.set(worker[1], inbox);
    }
    assert.equal(joined.size, 2, 'clients on both workers');
    // Redis runs one command at a time: once the second SUBSCRIBE shows, both workers are subscribed.
    const isSubscribe = (c: string[]) => c[0].toLowerCase() === 'subscribe' && c.includes('wskit:/room');
    await monitor.until('SUBSCRIBE wskit:/room', 2, isSubscribe);
    const [first, second] = [...joined.values()];
    const ws = client(`${url}/room`);
    await next(ws, 'open');
    ws.send('to every worker');
    for (const inbox of [first, second]) {
      assert.deepEqual(
        (await inbox.until(1)).map((m) => m.data),
        ['to every worker'],
      );
    }
    await monitor.sync();
    assert.equal(monitor.commands.filter(isSubscribe).length, 2, 'one SUBSCRIBE per worker');

    // SIGTERM: the workers close their connections (1001) and exit, then the primary does.
    const exited = next<[number | null, string | null]>(child, 'exit', 15_000);
    const goingAway = next<[number]>(ws, 'close');
    child.kill('SIGTERM');
    assert.equal((await goingAway)[0], 1001);
    assert.deepEqual(await exited, [0, null]);
  });
});
