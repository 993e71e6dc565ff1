// Types of require('wskit/protocol') (protocol.cjs).
export * from '../dist/cjs/protocol/index.js';
