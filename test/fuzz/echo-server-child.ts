// The echo servers in a process of their own (started by the server fuzz target with an IPC channel),
// so that the fuzzer sees a crash and the servers' RSS. Messages: 'ready' with the ports, 'violation',
// 'stats' (RSS, connections) on request, and exit on 'stop'.
import { startEchoServers } from './echo-servers.js';

const send = (message: object) => process.send?.(message);
process.on('uncaughtException', (err) => {
  send({ type: 'violation', message: `uncaught exception in the server process: ${err.stack ?? err}` });
  process.exitCode = 70;
  setImmediate(() => process.exit(70));
});
process.on('unhandledRejection', (err) => {
  send({
    type: 'violation',
    message: `unhandled rejection in the server process: ${err instanceof Error ? err.stack : err}`,
  });
});

const servers = await startEchoServers(Number(process.argv[2] ?? 1), (message) =>
  send({ type: 'violation', message }),
);
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats')
    send({ type: 'stats', rss: process.memoryUsage().rss, connections: servers.connections() });
  else if (m.type === 'stop') servers.close().then(() => process.exit(0));
});
send({ type: 'ready', plain: servers.plain, deflate: servers.deflate });
