// Types of import ... from 'wskit/client' (client.mjs, and the "browser" build).
export * from '../dist/cjs/client/index.js';
