import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill();
});

/** Starts an example and resolves with the first stdout line matching `pattern`. */
function start(
  file: string,
  args: string[],
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [join(examples, file), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no line matching ${pattern}`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

async function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [join(examples, file), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let stdout = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  const [code] = await once(child, 'exit');
  return { code, stdout };
}

describe('examples', () => {
  for (const server of ['echo-server.mjs', 'broadcast-server.mjs']) {
    it(`${server} answers examples/client.mjs and async-iteration.mjs`, async () => {
      const { child, match } = await start(server, ['0'], /listening on (ws:\/\/\S+)/);
      const url = match[1];
      const client = await run('client.mjs', [url, 'hello', 'wörld']);
      assert.equal(client.code, 0);
      assert.match(client.stdout, /< hello\n< wörld\nclosed 1000 done/);
      const iter = await run('async-iteration.mjs', [url]);
      assert.equal(iter.code, 0);
      assert.match(iter.stdout, /< message 1\n< message 2\n< message 3\ndone/);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    });
  }

  for (const server of ['express.mjs', 'fastify.mjs']) {
    it(`${server} serves HTTP and answers examples/client.mjs on /ws`, async () => {
      const { child, match } = await start(
        server,
        ['0'],
        /listening on (http:\/\/\S+) \(WebSocket: (ws:\/\/\S+)\)/,
      );
      const client = await run('client.mjs', [match[2], 'hello', 'wörld']);
      assert.equal(client.code, 0);
      assert.match(client.stdout, /< hello\n< wörld\nclosed 1000 done/);
      const health = await fetch(`${match[1]}/health`);
      assert.equal(((await health.json()) as { ok: boolean }).ok, true);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    });
  }

  it('socket-io.mjs relays a room to examples/socket-io-client.mjs', async () => {
    const { child, match } = await start('socket-io.mjs', ['0'], /listening on (http:\/\/\S+)/);
    const client = await run('socket-io-client.mjs', [match[1], 'lobby', 'hello', 'wörld']);
    assert.equal(client.code, 0);
    assert.equal(
      client.stdout,
      'joined lobby\n< lobby: hello\n< lobby: wörld\ndisconnected: io client disconnect\n',
    );
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
