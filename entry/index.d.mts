// Types of import ... from 'wskit' (index.mjs): the named exports of src/index.ts, and as the default
// export the WebSocket class of require('wskit') (index.d.cts), with the rest of the API on it.
import WebSocket from './index.cjs';

export * from '../dist/cjs/index.js';
export default WebSocket;
