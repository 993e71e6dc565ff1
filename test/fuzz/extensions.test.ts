// A short seeded pass of the extension-offer fuzz target.
import { it } from 'node:test';
import { extensionsTarget } from './extensions-target.js';
import { seededPass } from './fuzz-pass.js';

it('parseExtensions and the permessage-deflate negotiation keep their oracles for 1500 random headers', async () => {
  await seededPass(extensionsTarget(), 1500, ['refused', 'declined', 'accepted']);
});
