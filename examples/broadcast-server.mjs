// Every message a client sends goes to every connected client: node examples/broadcast-server.mjs [port]
import { WebSocket, WebSocketServer } from 'wskit';

const server = new WebSocketServer({ port: Number(process.argv[2] ?? 8080), host: '127.0.0.1' }, () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of server.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
