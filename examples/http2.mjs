// WebSockets over HTTP/2 (RFC 8441): one HTTP/2 session carries a page request and two WebSockets.
// The server is Node's http2 server (cleartext h2c here; http2.createSecureServer for wss://) with
// wskit attached; other streams stay the application's. Run: node examples/http2.mjs
import { connect, createServer } from 'node:http2';
import { WebSocket, WebSocketServer } from 'wskit';

const server = createServer((req, res) => res.end(`a page, over HTTP/${req.httpVersion}`));
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  ws.on('message', (data) => ws.send(`${req.url} echoes ${data} (HTTP/${req.httpVersion})`));
});

server.listen(0, '127.0.0.1', async () => {
  const session = connect(`http://127.0.0.1:${server.address().port}`);
  const page = session.request({ ':path': '/' });
  page.setEncoding('utf8');
  page.on('data', (text) => console.log(text));

  const open = (path) =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}${path}`, { http2Session: session });
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (data) => {
        console.log(String(data));
        ws.close();
      });
      ws.on('close', resolve);
    });
  await Promise.all([open('/a'), open('/b')]);
  session.close();
  wss.close(() => server.close());
});
