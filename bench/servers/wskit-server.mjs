// wskit (from dist/, so run `npm run build` first) as an echo + broadcast server.
//   node bench/servers/wskit-server.mjs PORT [--deflate]
// wskit's defaults are kept, including the server heartbeat (ping after 30 s of silence, one shared
// timer; no benchmark row is silent that long) and highWaterMark / maxBufferedAmount (16 KiB / 64 MiB).
// Only maxPayload is raised, for the 16 MiB stream row, and maxConnections is 0 (no limit, as in ws
// and uWS; the default, 50,000, would refuse part of the idle row). --deflate turns permessage-deflate on with
// wskit's defaults; the load generator reports the rows as n/a when it is not negotiated.
// Broadcast: every /broadcast connection subscribes to one topic and each message is published to it
// (framed once, like uWS's app.publish); builds without topics loop over the subscribers instead.
// The ready line says which. SIGUSR2 prints a STATS line (common.mjs).
import { readFileSync } from 'node:fs';
import { WebSocketServer } from '../../dist/index.js';
import {
  exitOnSignals,
  HOST,
  isBroadcastPath,
  MAX_PAYLOAD,
  parseArgs,
  ready,
  reportStatsOnSignal,
} from './common.mjs';

const { port, deflate } = parseArgs('wskit-server.mjs');
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

const wss = new WebSocketServer({
  host: HOST,
  port,
  maxPayload: MAX_PAYLOAD,
  maxConnections: 0,
  perMessageDeflate: deflate,
});
const canPublish = typeof wss.publish === 'function';
const TOPIC = 'broadcast';
const subscribers = new Set();

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (!isBroadcastPath(req.url)) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (canPublish) {
    ws.subscribe(TOPIC);
    ws.on('message', (data, isBinary) => wss.publish(TOPIC, data, { binary: isBinary }));
  } else {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    ws.on('message', (data, isBinary) => {
      for (const peer of subscribers) if (peer.readyState === 1) peer.send(data, { binary: isBinary });
    });
  }
});
wss.on('listening', () => {
  const broadcast = canPublish ? 'publish' : 'send loop';
  ready(`wskit ${version} (broadcast: ${broadcast})${deflate ? ' (deflate)' : ''}`);
});
wss.on('error', (error) => {
  console.error(String(error));
  process.exit(1);
});
reportStatsOnSignal(() => wss.clients.size);
exitOnSignals();
