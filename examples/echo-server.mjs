// An echo server: node examples/echo-server.mjs [port]
import { WebSocketServer } from 'wskit';

const server = new WebSocketServer({ port: Number(process.argv[2] ?? 8080), host: '127.0.0.1' }, () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
server.on('connection', (ws, req) => {
  console.log(`connection from ${req.socket.remoteAddress}`);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
