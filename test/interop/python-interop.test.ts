// wskit against python-websockets (Debian's python3-websockets, which `npm test` installs when missing):
// a python-websockets echo server with a wskit client, and a python-websockets client with a wskit
// server, with and without permessage-deflate.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, before, describe, it } from 'node:test';
import { closed, defer, next, runCleanups, serve, WebSocket, within } from '../node/helpers.js';

const PYTHON = '/usr/bin/python3';
const DIR = join(import.meta.dirname, 'python');

afterEach(runCleanups);

/** Starts the python-websockets echo server; resolves with its port. */
async function pythonServer(compression: boolean): Promise<number> {
  const args = [join(DIR, 'echo_server.py'), ...(compression ? [] : ['--no-compression'])];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  defer(() => child.kill());
  const [line] = await within(
    once(createInterface({ input: child.stdout! }), 'line'),
    'the python server port',
  );
  return Number(line);
}

/** Runs the python-websockets client against `url`; resolves with its exit code and report. */
async function pythonClient(
  url: string,
  compression: boolean,
): Promise<{ code: number | null; report: Record<string, unknown> }> {
  const args = [join(DIR, 'client.py'), url, ...(compression ? [] : ['--no-compression'])];
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  defer(() => child.kill());
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const [code] = await within(once(child, 'exit'), 'the python client', 20_000);
  return { code: code as number | null, report: JSON.parse(out.trim() || '{}') };
}

describe('interoperability with python-websockets', () => {
  before(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
      encoding: 'utf8',
    });
    assert.equal(probe.status, 0, 'python3-websockets is installed (npm test installs it from Debian)');
  });

  for (const compression of [true, false]) {
    const label = compression ? 'with permessage-deflate' : 'without compression';

    it(`wskit client, python-websockets server, ${label}`, async () => {
      const port = await pythonServer(compression);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: compression });
      defer(() => ws.terminate());
      await next(ws, 'open');
      assert.equal(ws.extensions, compression ? 'permessage-deflate' : '');
      const messages: (string | Buffer)[] = [
        '',
        'hello',
        'κόσμε 🎉'.repeat(100),
        'y'.repeat(70_000),
        Buffer.alloc(0),
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        Buffer.alloc(65_536, 7),
        Buffer.alloc(1 << 20, 9),
      ];
      for (const message of messages) {
        const echo = next<[Buffer, boolean]>(ws, 'message');
        ws.send(message);
        const [data, isBinary] = await echo;
        assert.equal(isBinary, Buffer.isBuffer(message));
        assert.deepEqual(data, Buffer.isBuffer(message) ? message : Buffer.from(message));
      }
      // A message sent in parts arrives whole.
      const whole = next<[Buffer]>(ws, 'message');
      ws.send('in ', { fin: false });
      ws.send('three ', { fin: false });
      ws.send('parts');
      assert.equal((await whole)[0].toString(), 'in three parts');
      const pong = next<[Buffer]>(ws, 'pong');
      ws.ping(Buffer.from('are you there'));
      assert.equal((await pong)[0].toString(), 'are you there');
      // The server closes with a code and reason of its choosing.
      const gone = closed(ws);
      ws.send('close 4001 python says bye');
      assert.deepEqual(await gone, { code: 4001, reason: 'python says bye' });
    });

    it(`python-websockets client, wskit server, ${label}`, async () => {
      const s = await serve({ perMessageDeflate: compression });
      let serverClose: Promise<{ code: number; reason: string }> | undefined;
      s.wss.on('connection', (ws) => {
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
        serverClose = closed(ws);
      });
      const { code, report } = await pythonClient(s.url, compression);
      assert.deepEqual(report.failures, []);
      assert.equal(code, 0);
      assert.equal(report.echoed, 8);
      assert.equal(report.pong, true);
      assert.deepEqual(report.extensions, compression ? ['PerMessageDeflate'] : []);
      assert.equal(report.close_code, 4000);
      assert.equal(report.close_reason, 'done');
      assert.deepEqual(await serverClose, { code: 4000, reason: 'done' });
    });
  }
});
