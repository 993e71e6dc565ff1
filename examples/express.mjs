// Express and wskit on one port: node examples/express.mjs [port]
// Express serves the HTTP routes; upgrade requests for /ws go to a wskit WebSocketServer created with
// noServer, which echoes every message. Try: node examples/client.mjs ws://127.0.0.1:8080/ws hello
import { createServer } from 'node:http';
import express from 'express';
import { WebSocketServer } from 'wskit';

const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

const app = express();
app.get('/health', (_req, res) => res.json({ ok: true, clients: wss.clients.size }));

const server = createServer(app);
server.on('upgrade', (req, socket, head) => {
  // Route (and authenticate) here, before the handshake: a refusal is a plain HTTP answer.
  if (new URL(req.url, 'http://localhost').pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(Number(process.argv[2] ?? 8080), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`listening on http://127.0.0.1:${port} (WebSocket: ws://127.0.0.1:${port}/ws)`);
});

// The WebSocket clients first (1001, closing handshakes), then the HTTP server.
const stop = () => wss.close(() => server.close(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
