// One port, several worker processes (one per core), topics shared between them through Redis:
//   node examples/cluster.mjs [WORKERS] [PORT]     WORKERS: default one per core; PORT: default 8080
//   REDIS_URL=redis://127.0.0.1:6379 (the default)
// Each URL path is a topic: every message sent to ws://127.0.0.1:8080/room1 goes to every client of
// /room1, whichever worker the operating system gave each connection to. Needs ioredis and a Redis.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { RedisBroker, WebSocketServer } from 'wskit';

const workers = Number(process.argv[2] ?? availableParallelism());
const port = Number(process.argv[3] ?? 8080);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (cluster.isPrimary) {
  // The primary serves nobody: it starts the workers, restarts one that dies, and stops them.
  let listening = 0;
  let stopping = false;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) {
      console.log(`listening on ws://127.0.0.1:${address.port} with ${workers} workers`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.id} died (${signal ?? code}): starting another`);
    cluster.fork();
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  const name = `worker ${cluster.worker.id}`;
  // One broker per process: one Redis subscription per topic per worker, whatever its clients.
  const broker = new RedisBroker({ url: redisUrl });
  // Every worker listens on the same port: node:cluster hands each connection to one of them.
  const server = new WebSocketServer({ port, host: '127.0.0.1', broker });
  server.on('connection', (ws, req) => {
    const topic = new URL(req.url, 'ws://localhost').pathname;
    console.log(`${name}: a client joined ${topic}`);
    ws.subscribe(topic);
    ws.on('message', (data, isBinary) => server.publish(topic, data, { binary: isBinary }));
  });
  // Redis unreachable: this worker's clients still get each other's messages; it reconnects by itself.
  server.on('brokerError', (err) => console.error(`${name}: ${err.message}`));
  broker.on('ready', () => console.log(`${name}: connected to Redis at ${redisUrl}`));
  const stop = () => server.close(() => broker.close().then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
