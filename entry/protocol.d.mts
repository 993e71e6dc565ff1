// Types of import ... from 'wskit/protocol' (protocol.mjs).
export * from '../dist/cjs/protocol/index.js';
