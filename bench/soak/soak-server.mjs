// The soak's server: wskit from dist/ with its default limits, echoing every message. Started by
// bench/soak/soak.mjs as a child process with an IPC channel and --expose-gc. It reports
// { type: 'listening', port } once, and answers each { type: 'sample', id } with the number of open
// connections, the connections accepted so far and process.memoryUsage() taken after a full GC.
import { WebSocketServer } from '../../dist/index.js';

// The only option set is the listen backlog: a load generator opens its first thousands of
// connections at once, and SYNs dropped by a full accept queue would be retried a second later.
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4096 });
let accepted = 0;

wss.on('connection', (ws) => {
  accepted++;
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => process.send({ type: 'listening', port: wss.address().port }));
wss.on('error', (error) => {
  console.error(`soak server: ${error.message}`);
  process.exit(1);
});

process.on('message', (message) => {
  if (message.type === 'sample') {
    globalThis.gc?.();
    process.send({
      type: 'sample',
      id: message.id,
      open: wss.clients.size,
      accepted,
      memory: process.memoryUsage(),
    });
  } else if (message.type === 'close') {
    wss.close(() => process.exit(0));
  }
});
// The parent went away (killed, or crashed): do not linger.
process.on('disconnect', () => process.exit(0));
