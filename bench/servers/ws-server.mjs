// ws 8 (from bench/.peers) as an echo + broadcast server.
//   node bench/servers/ws-server.mjs PORT [--deflate]
// WS_NO_BUFFER_UTIL=1 makes ws mask/unmask in JavaScript instead of with bufferutil; the ready line
// says which one is in use. ws's defaults are kept except maxPayload (16 MiB stream row) and
// perMessageDeflate (false, ws's server default, unless --deflate: then true, i.e. ws's defaults,
// which compress only messages of 1 KiB or more). SIGUSR2 prints a STATS line (common.mjs).
import {
  exitOnSignals,
  HOST,
  isBroadcastPath,
  MAX_PAYLOAD,
  parseArgs,
  ready,
  reportStatsOnSignal,
  requirePeer,
} from './common.mjs';

const { port, deflate } = parseArgs('ws-server.mjs');
const require = requirePeer();
const { WebSocketServer } = require('ws');
const { version } = require('ws/package.json');

let masking = 'js';
if (!process.env.WS_NO_BUFFER_UTIL) {
  try {
    require('bufferutil');
    masking = 'bufferutil';
  } catch {
    // ws falls back to JavaScript as well
  }
}

const wss = new WebSocketServer({ host: HOST, port, maxPayload: MAX_PAYLOAD, perMessageDeflate: deflate });
const subscribers = new Set();

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (isBroadcastPath(req.url)) {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    ws.on('message', (data, isBinary) => {
      for (const peer of subscribers) if (peer.readyState === 1) peer.send(data, { binary: isBinary });
    });
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});
wss.on('listening', () => ready(`ws ${version} (masking: ${masking})${deflate ? ' (deflate)' : ''}`));
wss.on('error', (error) => {
  console.error(String(error));
  process.exit(1);
});
reportStatsOnSignal(() => wss.clients.size);
exitOnSignals();
