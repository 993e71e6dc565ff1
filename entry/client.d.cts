// Types of require('wskit/client') (client.cjs).
export * from '../dist/cjs/client/index.js';
