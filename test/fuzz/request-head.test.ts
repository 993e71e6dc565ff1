// A short seeded pass of the request-head fuzz target.
import { it } from 'node:test';
import { seededPass } from './fuzz-pass.js';
import { requestHeadTarget } from './request-head-target.js';

it('RequestHeadParser matches the split-and-regex model for 300 random and mutated heads, in every chunking', async () => {
  await seededPass(requestHeadTarget(), 300, ['done', 'incomplete', 'error 400', 'error 431']);
});
