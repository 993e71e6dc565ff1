// Fastify and wskit on one port: node examples/fastify.mjs [port]
// Fastify serves the HTTP routes; upgrade requests for /ws go to a wskit WebSocketServer created with
// noServer, which echoes every message. Try: node examples/client.mjs ws://127.0.0.1:8080/ws hello
import Fastify from 'fastify';
import { WebSocketServer } from 'wskit';

const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

const app = Fastify();
app.get('/health', async () => ({ ok: true, clients: wss.clients.size }));
app.server.on('upgrade', (req, socket, head) => {
  if (new URL(req.url, 'http://localhost').pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
// Close the WebSocket clients before Fastify closes its HTTP server.
app.addHook('preClose', (done) => wss.close(() => done()));

const port = Number(process.argv[2] ?? 8080);
await app.listen({ port, host: '127.0.0.1' });
const { port: bound } = app.server.address();
console.log(`listening on http://127.0.0.1:${bound} (WebSocket: ws://127.0.0.1:${bound}/ws)`);

const stop = () => app.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
