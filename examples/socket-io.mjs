// Socket.IO running on wskit: node examples/socket-io.mjs [port]
// engine.io's wsEngine option takes wskit's WebSocketServer. Clients join rooms and talk in them;
// try it with examples/socket-io-client.mjs.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { WebSocketServer } from 'wskit';

const http = createServer();
const io = new Server(http, { wsEngine: WebSocketServer });
io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(room);
    ack(`joined ${room}`);
  });
  socket.on('say', (room, text) => io.to(room).emit('said', room, text));
});
http.listen(Number(process.argv[2] ?? 8080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});

const stop = () => io.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
