// A short seeded pass of the protocol-core fuzz target (npm run fuzz -- --target protocol runs it long).
import { it } from 'node:test';
import { seededPass } from './fuzz-pass.js';
import { protocolTarget } from './protocol-target.js';

it('the Protocol matches the reference model for 100 random and mutated streams, in every chunking', async () => {
  await seededPass(protocolTarget(), 100, [
    'close',
    'no event',
    'WS_ERR_INVALID_UTF8',
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    'WS_ERR_EXPECTED_FIN',
    'WS_ERR_UNEXPECTED_RSV_2_3',
  ]);
});
