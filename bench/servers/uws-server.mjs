// uWebSockets.js (npm @trufflesuite/uws-js-unofficial, from bench/.peers) as an echo + broadcast server.
//   node bench/servers/uws-server.mjs PORT [--deflate]
// The package silently falls back to a JavaScript implementation (ws underneath) when its native
// binary does not load; this script refuses to run on the fallback (exit 3) so that it is never
// measured as "uWS". Options: maxPayloadLength and maxBackpressure 256 MiB (the defaults, 16 KiB
// and 64 KiB, would close or drop in the 64 KiB and 16 MiB rows), idleTimeout 0, and compression
// DISABLED, or with --deflate SHARED_COMPRESSOR | SHARED_DECOMPRESSOR (no context takeover) and
// every send asking for compression. Broadcast uses app.publish to a topic (framed once). Open
// connections are counted (open/close handlers) for the STATS line printed on SIGUSR2 (common.mjs).
import {
  exitOnSignals,
  HOST,
  MAX_PAYLOAD,
  parseArgs,
  ready,
  reportStatsOnSignal,
  requirePeer,
} from './common.mjs';

const { port, deflate } = parseArgs('uws-server.mjs');
const require = requirePeer();
const NAME = '@trufflesuite/uws-js-unofficial';
process.env.UWS_USE_FALLBACK = '';
const uWS = require(NAME);
const { version } = require(`${NAME}/package.json`);
if (!/\[native code\]/.test(String(uWS.App))) {
  console.error(`${NAME} ${version}: the native binary did not load (JS fallback): not benchmarking it`);
  process.exit(3);
}

const behavior = {
  compression: deflate ? uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR : uWS.DISABLED,
  maxPayloadLength: MAX_PAYLOAD,
  maxBackpressure: MAX_PAYLOAD,
  idleTimeout: 0,
};
let dropped = 0;
let open = 0;
const closed = () => {
  open--;
};
const app = uWS.App();
app.ws('/broadcast', {
  ...behavior,
  open: (ws) => {
    open++;
    ws.subscribe('all');
  },
  close: closed,
  message: (_ws, message, isBinary) => app.publish('all', message, isBinary, deflate),
});
app.ws('/*', {
  ...behavior,
  open: () => {
    open++;
  },
  close: closed,
  message: (ws, message, isBinary) => {
    if (ws.send(message, isBinary, deflate) === 2) dropped++;
  },
});
app.listen(HOST, port, (token) => {
  if (!token) {
    console.error(`uws: cannot listen on ${HOST}:${port}`);
    process.exit(1);
  }
  ready(`uws ${version} (native)${deflate ? ' (deflate)' : ''}`);
});
reportStatsOnSignal(() => open);
exitOnSignals(() => {
  if (dropped > 0) console.error(`uws: ${dropped} echoes dropped by backpressure`);
});
