// Reads messages with for await: node examples/async-iteration.mjs URL
import { WebSocket } from 'wskit';

const ws = new WebSocket(process.argv[2] ?? 'ws://127.0.0.1:8080');
ws.on('open', () => {
  for (let i = 1; i <= 3; i++) ws.send(`message ${i}`);
});
let count = 0;
for await (const { data } of ws) {
  console.log(`< ${data}`);
  if (++count === 3) break; // leaving the loop closes the connection
}
console.log('done');
