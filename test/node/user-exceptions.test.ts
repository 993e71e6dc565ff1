// What the application's listeners and callbacks throw escapes as in ws (an uncaught exception from
// the code path that called them): never an 'error' event, a failed connection or a rejected promise.
// Each scenario runs in a child process (test/node/fixtures/throwing-listeners.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/throwing-listeners.ts', import.meta.url));

interface Outcome {
  how: string;
  message: string;
  code?: string;
  errorEvents: number;
}

function run(scenario: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, scenario],
      { encoding: 'utf8', timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${scenario}: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim()) as Outcome);
      },
    );
  });
}

describe('exceptions thrown by the application', () => {
  for (const [scenario, what] of [
    ['message-listener', "a 'message' listener (a wskit error it caused: not taken for the peer's)"],
    ['message-listener-deflate', "a 'message' listener of a compressed message"],
    ['ping-listener', "a 'ping' listener"],
    ['send-callback-blob', 'the callback of a send() of a Blob'],
    ['redirect-listener', "a 'redirect' listener"],
    ['server-close-callback', 'the callback of server.close()'],
  ] as const) {
    it(`from ${what} are uncaught exceptions`, async () => {
      const outcome = await run(scenario);
      assert.equal(outcome.how, 'uncaughtException');
      if (scenario.startsWith('message-listener')) {
        assert.equal(outcome.code, 'WS_ERR_INVALID_ARGUMENT');
      } else {
        assert.equal(outcome.message, `thrown by the application (${scenario})`);
      }
      assert.equal(outcome.errorEvents, 0, "no 'error' event");
    });
  }

  it("an error of a createWebSocketStream() stream with no 'error' listener is thrown (as ws's)", async () => {
    const outcome = await run('stream-error-unlistened');
    assert.equal(outcome.how, 'uncaughtException');
    assert.equal(outcome.code, 'WS_ERR_INVALID_OPCODE');
  });
});
