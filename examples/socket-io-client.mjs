// Joins a room of examples/socket-io.mjs, says each argument there, prints what the room hears:
//   node examples/socket-io-client.mjs http://127.0.0.1:8080 lobby hello world
import { io } from 'socket.io-client';

const [url = 'http://127.0.0.1:8080', room = 'lobby', ...messages] = process.argv.slice(2);
const socket = io(url, { transports: ['websocket'], reconnection: false });
let expected = messages.length;
socket.on('connect', async () => {
  console.log(await socket.emitWithAck('join', room));
  for (const m of messages) socket.emit('say', room, m);
  if (expected === 0) socket.disconnect();
});
socket.on('said', (from, text) => {
  console.log(`< ${from}: ${text}`);
  if (--expected === 0) socket.disconnect();
});
socket.on('connect_error', (err) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});
socket.on('disconnect', (reason) => console.log(`disconnected: ${reason}`));
