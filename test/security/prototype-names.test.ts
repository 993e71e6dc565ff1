// SECURITY.md, "Names that are Object.prototype's" (the class of ws's bug where an extension or a
// parameter named `constructor`, `__proto__`, `hasOwnProperty`... was looked up in a plain object and
// found Object.prototype's member, which crashed the handshake). wskit keeps extensions as arrays
// of [name, value] pairs, header names as own properties (Object.hasOwn), and compares names with
// switch / Set: such names are names like any other, on both sides, and nothing is polluted.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, WebSocketError } from '../../src/index.js';
import { acceptFor, next, rawRequest, rawServer, rawWebSocket, serve, statusOf, within } from './helpers.js';

const NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
];

function assertPrototypeClean(): void {
  const proto = Object.prototype as Record<string, unknown>;
  for (const key of ['polluted', 'x', 'a', '1', 'server_no_context_takeover', 'permessage-deflate']) {
    assert.equal(proto[key], undefined, `Object.prototype.${key} was set`);
  }
  assert.equal(typeof Object.prototype.toString, 'function');
  assert.equal(typeof Object.prototype.hasOwnProperty, 'function');
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

afterEach(assertPrototypeClean);

describe('extension and parameter names of Object.prototype', () => {
  it('offers named after Object.prototype members are ignored; the permessage-deflate offer after them is taken', async () => {
    const { port } = await serve({ perMessageDeflate: true });
    const extensions = [...NAMES.map((n) => `${n}; ${n}=1; polluted`), 'permessage-deflate'].join(', ');
    const { head } = await rawWebSocket(port, { 'Sec-WebSocket-Extensions': extensions });
    assert.match(head, /\r\nSec-WebSocket-Extensions: permessage-deflate(;|\r\n|$)/);
  });

  for (const name of NAMES) {
    it(`a permessage-deflate offer with a parameter named ${name} is declined, not a crash`, async () => {
      const { port } = await serve({ perMessageDeflate: true });
      const { head } = await rawWebSocket(port, {
        'Sec-WebSocket-Extensions': `permessage-deflate; ${name}, permessage-deflate; ${name}=x`,
      });
      assert.doesNotMatch(head, /Sec-WebSocket-Extensions/i);
    });
  }

  it('subprotocols named __proto__ and constructor are ordinary names: the first one offered is chosen', async () => {
    const { wss, port } = await serve();
    const offered = new Promise<unknown>((resolve) =>
      wss.once('connection', (_ws, req) => resolve(req.headers['sec-websocket-protocol'])),
    );
    const { head } = await rawWebSocket(port, {
      'Sec-WebSocket-Protocol': '__proto__, constructor, toString',
    });
    assert.match(head, /\r\nSec-WebSocket-Protocol: __proto__(\r\n|$)/);
    assert.equal(await within(offered, 'the connection event'), '__proto__, constructor, toString');
  });

  it('request header fields named __proto__ and constructor are own properties of req.headers', async () => {
    const { wss, port } = await serve();
    const seen = new Promise<Record<string, unknown>>((resolve) =>
      wss.once('connection', (_ws, req) => resolve(req.headers as Record<string, unknown>)),
    );
    // As lines: in an object literal, `__proto__: ...` would set the prototype, not add a header.
    await rawWebSocket(port, {}, '__proto__: polluted\r\nconstructor: x\r\nhasOwnProperty: 1\r\n');
    const headers = await within(seen, 'the connection event');
    assert.ok(Object.hasOwn(headers, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, 'polluted');
    assert.equal(headers.constructor, 'x');
    assert.equal(headers.hasownproperty, '1');
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  });

  it('a request with a Host and a __proto__ header twice: 400 for the second Host, nothing else', async () => {
    const { port } = await serve();
    const response = await rawRequest(
      port,
      'GET / HTTP/1.1\r\nHost: a\r\n__proto__: 1\r\n__proto__: 2\r\nHost: b\r\nUpgrade: websocket\r\n' +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    assert.equal(statusOf(response), 400);
  });

  for (const name of NAMES) {
    it(`client: a server that accepts permessage-deflate with a parameter ${name} fails the handshake cleanly`, async () => {
      const port = await rawServer((request, socket) => {
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n` +
            `Sec-WebSocket-Extensions: permessage-deflate; ${name}\r\n\r\n`,
        );
      });
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      const closed = within(new Promise((resolve) => ws.once('close', resolve)), "the client's close");
      const [error] = await next<[Error]>(ws, 'error');
      assert.ok(error instanceof WebSocketError, String(error));
      assert.equal(error.code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE');
      await closed;
    });
  }

  it('client: an extension named __proto__ that was not offered fails the handshake cleanly', async () => {
    const port = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(request)}\r\nSec-WebSocket-Extensions: __proto__; constructor\r\n\r\n`,
      );
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const closed = within(new Promise((resolve) => ws.once('close', resolve)), "the client's close");
    const [error] = await next<[Error]>(ws, 'error');
    assert.equal((error as WebSocketError).code, 'WS_ERR_HANDSHAKE_INVALID_RESPONSE', String(error));
    await closed;
  });
});
