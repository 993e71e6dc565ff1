// Error texts against ws 8's: the same mistake made with ws and with wskit gives the same `message`
// and `String(err)` (so ws's own tests, which match them, pass), and wskit's extra information is in
// `detail`. Compared with ws itself, not with copied strings, where ws can be driven the same way.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { WebSocketError } from '../../src/index.js';
import {
  acceptFor,
  closeRawServer,
  defer,
  keyOf,
  next,
  rawRequest,
  rawServer,
  runCleanups,
  serve,
  upgradeRequest,
  WebSocket,
  WebSocketServer,
  WsServer,
  WsWebSocket,
} from './helpers.js';

afterEach(runCleanups);

type Coded = Error & { code?: string; detail?: string };

function thrown(fn: () => unknown): Coded {
  try {
    fn();
  } catch (err) {
    return err as Coded;
  }
  assert.fail('expected a throw');
}

/** A client that never connects: its failure is swallowed. */
function unreachable<T extends { on(e: string, f: () => void): unknown; terminate(): void }>(ws: T): T {
  ws.on('error', () => {});
  defer(() => ws.terminate());
  return ws;
}

describe('ws compatibility: error texts', () => {
  const throwing: [string, (WS: typeof WebSocket, Server: typeof WebSocketServer) => unknown, RegExp?][] = [
    ['a URL with another scheme', (WS) => new WS('bad-scheme://example.com'), /bad-scheme:/],
    ['a URL that does not parse', (WS) => new WS('not a url')],
    ['a URL with a fragment', (WS) => new WS('ws://example.com/#here'), /fragment/],
    ['a ws+unix: URL without a path', (WS) => new WS('ws+unix:'), /socket path/],
    ['an invalid subprotocol', (WS) => new WS('ws://127.0.0.1:1', [null as never]), /not a token/],
    ['a repeated subprotocol', (WS) => new WS('ws://127.0.0.1:1', ['a', 'a']), /listed twice/],
    [
      'an unsupported protocolVersion',
      (WS) => new WS('ws://127.0.0.1:1', { protocolVersion: 1000 as never }),
      /use 13/,
    ],
    ['a server without options', (_, Server) => new Server(undefined as never), /must be an object/],
    ['a server without a mode', (_, Server) => new Server({}), /none was/],
    ['a server with two modes', (_, Server) => new Server({ noServer: true, port: 0 }), /2 were/],
    ['address() in noServer mode', (_, Server) => new Server({ noServer: true }).address(), /no address/],
    ['ping() while connecting', (WS) => unreachable(new WS('ws://127.0.0.1:1')).ping()],
    ['pong() while connecting', (WS) => unreachable(new WS('ws://127.0.0.1:1')).pong()],
    ['send() while connecting', (WS) => unreachable(new WS('ws://127.0.0.1:1')).send('x')],
  ];
  for (const [name, make, detail] of throwing) {
    it(`${name}: ws's message, class and name; wskit's detail`, () => {
      const fromWs = thrown(() => make(WsWebSocket as never, WsServer as never));
      const fromWskit = thrown(() => make(WebSocket, WebSocketServer));
      assert.equal(String(fromWskit), String(fromWs));
      assert.equal(fromWskit.name, fromWs.name);
      assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(fromWskit)), Object.getPrototypeOf(fromWs));
      assert.ok(fromWskit.code?.startsWith('WS_ERR_'), 'a wskit code');
      if (detail !== undefined) assert.match(fromWskit.detail ?? '', detail);
    });
  }

  it('ping() and pong() over 125 bytes, close() with a bad code or a long reason: the texts of ws', async () => {
    const s = await serve();
    const ws = new WebSocket(s.url);
    defer(() => ws.terminate());
    await next(ws, 'open');
    const cases: [() => unknown, string, RegExp][] = [
      [
        () => ws.ping(Buffer.alloc(126)),
        'RangeError: The data size must not be greater than 125 bytes',
        /126 bytes/,
      ],
      [
        () => ws.pong(Buffer.alloc(126)),
        'RangeError: The data size must not be greater than 125 bytes',
        /126 bytes/,
      ],
      [() => ws.close(1005), 'TypeError: First argument must be a valid error code number', /1005/],
      [
        () => ws.close(1000, 'x'.repeat(124)),
        'RangeError: The message must not be greater than 123 bytes',
        /124 bytes/,
      ],
    ];
    for (const [fn, text, detail] of cases) {
      const err = thrown(fn);
      assert.equal(String(err), text);
      assert.match(err.detail ?? '', detail);
    }
  });

  // The server's answer, written raw, and what ws and wskit clients make of it.
  const answers: [string, string[], (request: string) => string, string, RegExp?][] = [
    [
      'Upgrade: foo',
      [],
      (r) => switching(r).replace('Upgrade: websocket', 'Upgrade: foo'),
      'Invalid Upgrade header',
      /Upgrade: foo/,
    ],
    [
      'a wrong Sec-WebSocket-Accept',
      [],
      (r) => switching(r).replace(/Sec-WebSocket-Accept: .*\r\n/, 'Sec-WebSocket-Accept: AAAA\r\n'),
      'Invalid Sec-WebSocket-Accept header',
      /does not match/,
    ],
    [
      'a subprotocol not offered',
      ['foo', 'bar'],
      (r) => switching(r, 'Sec-WebSocket-Protocol: baz\r\n'),
      'Server sent an invalid subprotocol',
      /"baz", which was not offered \(offered: foo, bar\)/,
    ],
    [
      'an empty subprotocol',
      ['foo'],
      (r) => switching(r, 'Sec-WebSocket-Protocol:\r\n'),
      'Server sent an invalid subprotocol',
      /empty/,
    ],
    [
      'a subprotocol when none was offered',
      [],
      (r) => switching(r, 'Sec-WebSocket-Protocol: foo\r\n'),
      'Server sent a subprotocol but none was requested',
    ],
    [
      'no subprotocol',
      ['foo', 'bar'],
      (r) => switching(r),
      'Server sent no subprotocol',
      /offered: foo, bar/,
    ],
    [
      'an extension header that does not parse',
      [],
      (r) => switching(r, 'Sec-WebSocket-Extensions: foo;=\r\n'),
      'Invalid Sec-WebSocket-Extensions header',
      /unexpected character at index 4/,
    ],
    [
      'an extension not offered',
      [],
      (r) => switching(r, 'Sec-WebSocket-Extensions: foo\r\n'),
      'Server indicated an extension that was not requested',
      /foo, which was not offered/,
    ],
    [
      'permessage-deflate with a bad parameter',
      [],
      (r) => switching(r, 'Sec-WebSocket-Extensions: permessage-deflate; foo\r\n'),
      'Invalid Sec-WebSocket-Extensions header',
      /permessage-deflate response/,
    ],
  ];
  for (const [name, protocols, answer, message, detail] of answers) {
    it(`the client, for ${name}: ws's message; wskit's detail`, async () => {
      const raw = await rawServer((request, socket) => socket.write(Buffer.from(answer(request), 'latin1')));
      defer(() => closeRawServer(raw));
      const url = `ws://127.0.0.1:${raw.port}`;
      const fromWs = await failure(new WsWebSocket(url, protocols) as never);
      const fromWskit = await failure(new WebSocket(url, protocols));
      assert.equal(fromWs.message, message);
      assert.equal(String(fromWskit), String(fromWs));
      assert.equal(fromWskit.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
      if (detail !== undefined) assert.match(fromWskit.detail ?? '', detail);
    });
  }

  it("the client, for a handshake that times out: ws's message; the time in detail", async () => {
    const raw = await rawServer(() => {});
    defer(() => closeRawServer(raw));
    const url = `ws://127.0.0.1:${raw.port}`;
    const fromWs = await failure(new WsWebSocket(url, { handshakeTimeout: 50 }) as never);
    const fromWskit = await failure(new WebSocket(url, { handshakeTimeout: 50 }));
    assert.equal(String(fromWskit), String(fromWs));
    assert.equal(fromWskit.detail, 'after 50 ms');
  });

  it("the client, for a redirect to a URL that does not parse: ws's SyntaxError", async () => {
    const raw = await rawServer((_, socket) => socket.end('HTTP/1.1 302 Found\r\nLocation: ws://\r\n\r\n'));
    defer(() => closeRawServer(raw));
    const url = `ws://127.0.0.1:${raw.port}`;
    const fromWs = await failure(new WsWebSocket(url, { followRedirects: true }) as never);
    const fromWskit = await failure(new WebSocket(url, { followRedirects: true }));
    assert.equal(String(fromWskit), 'SyntaxError: Invalid URL: ws://');
    assert.equal(String(fromWskit), String(fromWs));
    assert.equal(fromWskit.code, 'WS_ERR_INVALID_URL');
  });

  it("the server's 'wsClientError': ws's text as the message (and the body), wskit's in detail", async () => {
    const s = await serve();
    const seen = next<[WebSocketError]>(s.wss, 'wsClientError');
    s.wss.on('wsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    rawRequest(s.port, upgradeRequest({ 'Sec-WebSocket-Version': '12' })).catch(() => {});
    const [err] = await seen;
    assert.equal(String(err), 'Error: Missing or invalid Sec-WebSocket-Version header');
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_REQUEST');
    assert.equal(err.status, 400);
    assert.equal(err.detail, 'got "12"; this server speaks 13, 8');
  });

  it('a plain HTTP request to a server with a port: 426 with the body Upgrade Required, as ws', async () => {
    const s = await serve();
    const response = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(response, /^HTTP\/1\.1 426 /);
    assert.equal(response.slice(response.indexOf('\r\n\r\n') + 4), 'Upgrade Required');
  });
});

function switching(request: string, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n${extra}\r\n`
  );
}

/** The error of a connection attempt that fails (ws's or wskit's client), once it has closed. */
function failure(ws: WebSocket): Promise<Coded> {
  return new Promise((resolve) => {
    let error: Coded;
    ws.once('error', (err: Coded) => {
      error = err;
    });
    ws.once('close', () => resolve(error));
  });
}
