// Sends each argument as a message, prints the replies, closes: node examples/client.mjs URL hello world
import { WebSocket } from 'wskit';

const [url = 'ws://127.0.0.1:8080', ...messages] = process.argv.slice(2);
const ws = new WebSocket(url);
let expected = messages.length;
ws.on('open', () => {
  for (const m of messages) ws.send(m);
  if (expected === 0) ws.close(1000);
});
ws.on('message', (data) => {
  console.log(`< ${data}`);
  if (--expected === 0) ws.close(1000, 'done');
});
ws.on('error', (err) => console.error(`error: ${err.message}`));
ws.on('close', (code, reason) => {
  console.log(`closed ${code} ${reason}`);
  process.exitCode = code === 1000 ? 0 : 1;
});
