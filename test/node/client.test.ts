// The client's opening handshake: request options (headers, origin, subprotocols), the 'upgrade',
// 'unexpected-response' and 'redirect' events, followRedirects / maxRedirects, handshakeTimeout, and
// every way a server's answer can be wrong (from a raw TCP server that says exactly what the test wants).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type ClientRequest, createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  acceptFor,
  client,
  closeRawServer,
  connected,
  defer,
  keyOf,
  next,
  rawServer,
  recordClose,
  runCleanups,
  serve,
  WebSocket,
  WebSocketServer,
  within,
} from './helpers.js';

afterEach(runCleanups);

/** A raw server that answers every opening handshake with `head` (a function of the request). */
async function answering(head: (request: string) => string) {
  const raw = await rawServer((request, socket) => socket.write(Buffer.from(head(request), 'latin1')));
  defer(() => closeRawServer(raw));
  return { ...raw, url: `ws://127.0.0.1:${raw.port}` };
}

function switching(request: string, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n${extra}\r\n`
  );
}

/** Waits for a connection attempt to fail: the 'error' it emits, then 'close' with 1006. */
async function failure(ws: WebSocket): Promise<Error & { code?: string; status?: number; detail?: string }> {
  const error = next<[Error & { code?: string; status?: number }]>(ws, 'error');
  const closed = recordClose(ws);
  let opened = false;
  ws.on('open', () => {
    opened = true;
  });
  const [err] = await error;
  assert.deepEqual(await closed, { code: 1006, reason: '' });
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.equal(opened, false, "no 'open' for a failed handshake");
  return err;
}

describe('request options', () => {
  it('headers and origin reach the server; the key and version are set', async () => {
    const s = await serve();
    const { req } = await connected(s, '/path?q=1', {
      headers: { 'X-Custom': 'yes', Cookie: 'a=b' },
      origin: 'https://app.example',
    });
    assert.equal(req.url, '/path?q=1');
    assert.equal(req.headers['x-custom'], 'yes');
    assert.equal(req.headers.cookie, 'a=b');
    assert.equal(req.headers.origin, 'https://app.example');
    assert.equal(req.headers['sec-websocket-version'], '13');
    assert.match(req.headers['sec-websocket-key'] ?? '', /^[A-Za-z0-9+/]{22}==$/);
  });

  it('credentials in the URL become a Basic Authorization header', async () => {
    const s = await serve();
    const connection = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws = client(`ws://us%40er:p%3Ass@127.0.0.1:${s.port}/`);
    await next(ws, 'open');
    const [, req] = await connection;
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  });

  it('protocolVersion 8 sends Sec-WebSocket-Origin', async () => {
    // Version 8 is accepted by a server with legacy.hybi08 only (ws accepts it by default).
    const s = await serve({ legacy: { hybi08: true } });
    const { req } = await connected(s, '', { protocolVersion: 8, origin: 'https://app.example' });
    assert.equal(req.headers['sec-websocket-version'], '8');
    assert.equal(req.headers['sec-websocket-origin'], 'https://app.example');
    assert.equal(req.headers.origin, undefined);
  });

  it('finishRequest gets the request and the WebSocket, and sends it itself', async () => {
    const s = await serve();
    let given: WebSocket | undefined;
    const { ws, req } = await connected(s, '', {
      finishRequest: (request: ClientRequest, websocket: WebSocket) => {
        given = websocket;
        request.setHeader('X-Late', 'added in finishRequest');
        request.end();
      },
    });
    assert.equal(given, ws);
    assert.equal(req.headers['x-late'], 'added in finishRequest');
  });

  it('generateMask chooses the masking keys', async () => {
    let masks = 0;
    const frames: Buffer[] = [];
    let arrived: () => void = () => {};
    const frameArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const raw = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n\r\n`,
      );
      socket.on('data', (chunk: Buffer) => {
        frames.push(chunk);
        if (Buffer.concat(frames).length >= 11) arrived();
      });
    });
    defer(() => closeRawServer(raw));
    const ws = client(`ws://127.0.0.1:${raw.port}`, {
      generateMask: (mask: Buffer) => {
        masks++;
        mask.fill(0);
      },
    });
    await next(ws, 'open');
    ws.send('plain');
    await within(frameArrived, 'the frame at the raw server');
    assert.ok(masks >= 1);
    // A zero key leaves the payload as it was: header (2), key (4), payload.
    const frame = Buffer.concat(frames);
    assert.deepEqual([...frame.subarray(0, 6)], [0x81, 0x85, 0, 0, 0, 0]);
    assert.equal(frame.subarray(6, 11).toString(), 'plain');
  });

  it('the url property, and http: URLs are accepted as ws:', async () => {
    const s = await serve();
    const ws = client(`http://127.0.0.1:${s.port}/x`);
    assert.equal(ws.url, `ws://127.0.0.1:${s.port}/x`);
    await next(ws, 'open');
  });

  it('invalid URLs and subprotocols throw at once', () => {
    assert.throws(() => new WebSocket('not a url'), { code: 'WS_ERR_INVALID_URL' });
    assert.throws(() => new WebSocket('ftp://127.0.0.1/'), { code: 'WS_ERR_INVALID_URL' });
    assert.throws(() => new WebSocket('ws://127.0.0.1/#frag'), { code: 'WS_ERR_INVALID_URL' });
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', ['a', 'a']), { code: 'WS_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', 'a b'), { code: 'WS_ERR_INVALID_ARGUMENT' });
  });
});

describe('handshake events', () => {
  it("'upgrade' gets the 101 response before 'open'", async () => {
    const s = await serve();
    const ws = client(s.url);
    const order: string[] = [];
    let accept: string | undefined;
    ws.on('upgrade', (res: IncomingMessage) => {
      order.push('upgrade');
      assert.equal(res.statusCode, 101);
      accept = res.headers['sec-websocket-accept'] as string;
    });
    ws.on('open', () => order.push('open'));
    await next(ws, 'open');
    assert.deepEqual(order, ['upgrade', 'open']);
    assert.match(accept ?? '', /^[A-Za-z0-9+/]{27}=$/);
  });

  it("'unexpected-response' replaces the error: the application reads the response", async () => {
    const raw = await answering(
      () =>
        'HTTP/1.1 402 Payment Required\r\nContent-Length: 3\r\nX-Price: 5\r\nConnection: close\r\n\r\npay',
    );
    const ws = client(raw.url);
    let errors = 0;
    ws.on('error', () => errors++);
    const [req, res] = await next<[ClientRequest, IncomingMessage]>(ws, 'unexpected-response');
    assert.equal(typeof req.setHeader, 'function');
    assert.equal(res.statusCode, 402);
    assert.equal(res.headers['x-price'], '5');
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'pay');
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(errors, 0);
    // The application decides: here it gives up.
    const closed = recordClose(ws);
    ws.close();
    assert.equal((await closed).code, 1006);
    assert.equal(errors, 1, "close() while connecting emits one 'error'");
  });

  it('a non-101 answer without a listener fails with the status', async () => {
    const raw = await answering(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    const err = await failure(client(raw.url));
    assert.equal(err.message, 'Unexpected server response: 200');
    assert.equal(err.status, 200);
  });

  it('a 3xx is not followed by default', async () => {
    const s = await serve();
    const raw = await answering(
      () => `HTTP/1.1 302 Found\r\nLocation: ${s.url}\r\nContent-Length: 0\r\n\r\n`,
    );
    let redirected = false;
    const ws = client(raw.url);
    ws.on('redirect', () => {
      redirected = true;
    });
    const err = await failure(ws);
    assert.equal(err.message, 'Unexpected server response: 302');
    assert.equal(redirected, false);
  });

  it("followRedirects: 'redirect' is emitted and the new location is connected to", async () => {
    const s = await serve();
    const raw = await answering(
      () => `HTTP/1.1 301 Moved Permanently\r\nLocation: ${s.url}/moved\r\nContent-Length: 0\r\n\r\n`,
    );
    const connection = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws = client(`${raw.url}/old`, { followRedirects: true });
    const redirect = next<[string, ClientRequest]>(ws, 'redirect');
    await next(ws, 'open');
    const [url, req] = await redirect;
    assert.equal(url, `${s.url}/moved`);
    assert.equal(typeof req.getHeader, 'function');
    assert.equal(ws.url, `${s.url}/moved`);
    assert.equal((await connection)[1].url, '/moved');
  });

  it('a relative Location is resolved against the current URL', async () => {
    let first = true;
    const raw = await answering((request) => {
      if (first) {
        first = false;
        return 'HTTP/1.1 307 Temporary Redirect\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n';
      }
      return switching(request);
    });
    const ws = client(`${raw.url}/start`, { followRedirects: true });
    const [url] = await next<[string]>(ws, 'redirect');
    assert.equal(url, `${raw.url}/final`);
    await next(ws, 'open');
  });

  it('maxRedirects: one redirect too many fails the connection', async () => {
    const raw = await answering(
      (request) =>
        `HTTP/1.1 302 Found\r\nLocation: ${/^GET (\S+)/.exec(request)![1]}x\r\nContent-Length: 0\r\n\r\n`,
    );
    const ws = client(`${raw.url}/`, { followRedirects: true, maxRedirects: 2 });
    const redirects: string[] = [];
    ws.on('redirect', (url: string) => redirects.push(url));
    const err = await failure(ws);
    assert.equal(err.message, 'Maximum redirects exceeded');
    assert.deepEqual(redirects, [`${raw.url}/x`, `${raw.url}/xx`]);
  });

  it("'redirect' gets the new request before it is sent: its listener decides which headers go", async () => {
    const s = await serve();
    const raw = await answering(
      () => `HTTP/1.1 302 Found\r\nLocation: ${s.url}/next\r\nContent-Length: 0\r\n\r\n`,
    );
    const connection = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws = client(raw.url, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', 'X-Secret': 'drop me', 'X-Other': 'kept' },
    });
    const seen: { url: string; path: string; secret: unknown; auth: unknown }[] = [];
    ws.on('redirect', (url: string, req: ClientRequest) => {
      seen.push({
        url,
        path: req.path,
        secret: req.getHeader('x-secret'),
        auth: req.getHeader('authorization'),
      });
      req.removeHeader('x-secret');
    });
    await next(ws, 'open');
    const [, req] = await connection;
    assert.deepEqual(seen, [
      { url: `${s.url}/next`, path: '/next', secret: 'drop me', auth: 'Bearer secret' },
    ]);
    assert.equal(req.headers['x-secret'], undefined, 'removed by the listener');
    assert.equal(req.headers['x-other'], 'kept');
    assert.equal(req.headers.authorization, 'Bearer secret', 'with a listener, nothing is dropped for it');
  });

  it("terminate() from a 'redirect' listener ends the attempt: close 1006, nothing thrown", async () => {
    const s = await serve();
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const raw = await answering(
      () => `HTTP/1.1 302 Found\r\nLocation: ${s.url}\r\nContent-Length: 0\r\n\r\n`,
    );
    const ws = client(raw.url, { followRedirects: true });
    ws.on('redirect', () => ws.terminate());
    const closed = recordClose(ws);
    assert.equal((await closed).code, 1006);
    assert.equal(connections, 0);
  });

  it('a redirect to another host drops Authorization and Cookie; the same host keeps them', async () => {
    const s = await serve();
    const raw = await answering(
      () => `HTTP/1.1 302 Found\r\nLocation: ${s.url}/\r\nContent-Length: 0\r\n\r\n`,
    );
    const connection = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws = client(raw.url, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'a=b', 'X-Other': 'kept' },
    });
    await next(ws, 'open');
    const [, req] = await connection;
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers['x-other'], 'kept');

    let hops = 0;
    const same = await answering((request) => {
      hops++;
      if (hops === 1) return 'HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n';
      assert.match(request, /^authorization: Bearer secret\r$/im);
      return switching(request);
    });
    const ws2 = client(same.url, { followRedirects: true, headers: { Authorization: 'Bearer secret' } });
    await next(ws2, 'open');
    assert.equal(hops, 2);
  });
});

describe('credentials', () => {
  const basic = (auth: string) => `Basic ${Buffer.from(auth).toString('base64')}`;

  it("the auth option and a URL's userinfo become Basic authentication (the URL wins)", async () => {
    const s = await serve();
    const seen: (string | undefined)[] = [];
    s.wss.on('connection', (_ws: WebSocket, req: IncomingMessage) => seen.push(req.headers.authorization));
    await next(client(s.url, { auth: 'ada:pw' }), 'open');
    await next(client(s.url.replace('ws://', 'ws://bob:s%20ecret@')), 'open');
    await next(client(s.url.replace('ws://', 'ws://bob:x@'), { auth: 'ada:pw' }), 'open');
    while (seen.length < 3) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [basic('ada:pw'), basic('bob:s ecret'), basic('bob:x')]);
  });

  it("a redirect on the same host keeps the first URL's credentials; the Location's userinfo does not replace them", async () => {
    let hops = 0;
    const same = await answering((request) => {
      hops++;
      if (hops === 1) {
        return `HTTP/1.1 302 Found\r\nLocation: ws://eve:evil@${request.match(/^host: (\S+)\r$/im)![1]}/next\r\nContent-Length: 0\r\n\r\n`;
      }
      assert.match(request, new RegExp(`^authorization: ${basic('ada:pw')}\\r$`, 'im'));
      return switching(request);
    });
    const ws = client(same.url.replace('ws://', 'ws://ada:pw@'), { followRedirects: true });
    await next(ws, 'open');
    assert.equal(hops, 2);
  });

  it('a redirect to another unix socket drops Authorization and Cookie (a socket path is a host)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wskit-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const second = join(dir, 'second.sock');
    const first = join(dir, 'first.sock');
    const target = createHttpServer();
    const wss = new WebSocketServer({ server: target });
    const seen = next<[WebSocket, IncomingMessage]>(wss, 'connection');
    target.listen(second);
    await next(target, 'listening');
    defer(() => new Promise<void>((resolve) => wss.close(() => target.close(() => resolve()))));
    const redirector = createHttpServer((_req, res) => {
      res.writeHead(302, { Location: `ws+unix:${second}:/` }).end();
    });
    redirector.listen(first);
    await next(redirector, 'listening');
    defer(() => new Promise<void>((resolve) => redirector.close(() => resolve())));
    const ws = client(`ws+unix:${first}:/`, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'a=b' },
    });
    await next(ws, 'open');
    const [, req] = await seen;
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers.cookie, undefined);
  });

  it("http.request's other options pass through, as in ws (lookup)", async () => {
    const s = await serve();
    const looked: string[] = [];
    const ws = client(s.url.replace('127.0.0.1', 'wskit.invalid'), {
      lookup: ((hostname: string, options: object, cb: (...args: unknown[]) => void) => {
        looked.push(hostname);
        if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      }) as never,
    } as never);
    await next(ws, 'open');
    assert.deepEqual(looked, ['wskit.invalid']);
  });
});

describe("the server's answer is checked", () => {
  it('a wrong Sec-WebSocket-Accept fails the handshake', async () => {
    const raw = await answering(
      () =>
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptFor('AAAAAAAAAAAAAAAAAAAAAA==')}\r\n\r\n`,
    );
    const err = await failure(client(raw.url));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
    assert.match(err.message, /Sec-WebSocket-Accept/);
  });

  it('a missing Sec-WebSocket-Accept fails the handshake', async () => {
    const raw = await answering(
      () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    const err = await failure(client(raw.url));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
  });

  it('a wrong Upgrade header fails the handshake', async () => {
    const raw = await answering((request) =>
      switching(request).replace('Upgrade: websocket', 'Upgrade: h2c'),
    );
    const err = await failure(client(raw.url));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
    assert.equal(err.message, 'Invalid Upgrade header');
    assert.match(err.detail ?? '', /Upgrade: h2c/);
  });

  it('a subprotocol that was not offered fails the handshake', async () => {
    const raw = await answering((request) => switching(request, 'Sec-WebSocket-Protocol: other\r\n'));
    const err = await failure(client(raw.url, ['chat']));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
    assert.equal(err.message, 'Server sent an invalid subprotocol');
    assert.match(err.detail ?? '', /"other", which was not offered \(offered: chat\)/);
  });

  it('a subprotocol when none was offered fails the handshake', async () => {
    const raw = await answering((request) => switching(request, 'Sec-WebSocket-Protocol: chat\r\n'));
    const err = await failure(client(raw.url));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
  });

  it('an extension that was not offered fails the handshake', async () => {
    const raw = await answering((request) =>
      switching(request, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
    );
    const err = await failure(client(raw.url, { perMessageDeflate: false }));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
  });

  it('a valid answer from a raw server opens, and frames sent with it are read', async () => {
    // The 101 and a first frame ("hi", unmasked) in one write: the frame is in the upgrade's head.
    const raw = await answering((request) => `${switching(request)}\x81\x02hi`);
    const ws = client(raw.url);
    const message = next<[Buffer, boolean]>(ws, 'message');
    await next(ws, 'open');
    const [data, isBinary] = await message;
    assert.equal(data.toString(), 'hi');
    assert.equal(isBinary, false);
  });

  it('a server that never answers: handshakeTimeout fails the connection', async () => {
    const raw = await rawServer(() => {});
    defer(() => closeRawServer(raw));
    const started = Date.now();
    const err = await failure(client(`ws://127.0.0.1:${raw.port}`, { handshakeTimeout: 100 }));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_TIMEOUT');
    assert.ok(Date.now() - started >= 90, 'not before the timeout');
  });

  it('handshakeTimeout is a deadline: a server that trickles its answer a byte at a time cannot extend it', async () => {
    const answer = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pad: ';
    let writer: NodeJS.Timeout | null = null;
    const raw = await rawServer((_request, socket) => {
      let i = 0;
      // One byte every 20 ms, for ever: an idle timeout of 100 ms would never fire.
      writer = setInterval(() => socket.write(i < answer.length ? answer[i++] : 'x'), 20);
      socket.on('close', () => clearInterval(writer!));
    });
    defer(() => closeRawServer(raw));
    defer(() => writer !== null && clearInterval(writer));
    const started = Date.now();
    const err = await failure(client(`ws://127.0.0.1:${raw.port}`, { handshakeTimeout: 150 }));
    assert.equal(err.code, 'WS_ERR_HANDSHAKE_TIMEOUT');
    assert.ok(Date.now() - started >= 140, 'not before the deadline');
  });

  it('handshakeTimeout no longer applies once the connection is open', async () => {
    const s = await serve();
    const { ws, peer } = await connected(s, '', { handshakeTimeout: 300 });
    // The client's heartbeat as a clock: eight answered pings 50 ms apart take well over 300 ms.
    const timed = await connected(s, '', { heartbeat: { interval: 50, timeout: 200 } });
    await new Promise<void>((resolve) => {
      let pongs = 0;
      timed.ws.on('pong', () => ++pongs === 8 && resolve());
    });
    assert.equal(ws.readyState, WebSocket.OPEN);
    const message = next<[Buffer]>(ws, 'message');
    peer.send('still here');
    assert.equal((await message)[0].toString(), 'still here');
  });

  it('a refused TCP connection fails with the socket error', async () => {
    const raw = await rawServer(() => {});
    const port = raw.port;
    await closeRawServer(raw);
    const err = await failure(client(`ws://127.0.0.1:${port}`));
    assert.equal(err.code, 'ECONNREFUSED');
  });

  it('close() and terminate() while connecting abort the handshake', async () => {
    const raw = await rawServer(() => {});
    defer(() => closeRawServer(raw));
    for (const method of ['close', 'terminate'] as const) {
      const ws = client(`ws://127.0.0.1:${raw.port}`);
      const failed = failure(ws);
      ws[method]();
      const err = await failed;
      assert.equal(err.message, 'WebSocket was closed before the connection was established');
    }
  });
});
