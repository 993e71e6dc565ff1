// A short seeded pass of the server fuzz target, with the servers in this process (npm run fuzz runs
// them in a child process, watching its RSS).
import { it } from 'node:test';
import { seededPass } from './fuzz-pass.js';
import { serverTarget } from './server-target.js';

it('a WebSocketServer over loopback keeps its oracles for 30 random connections', async () => {
  await seededPass(serverTarget(), 30, ['frames: close', 'frames: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
});
