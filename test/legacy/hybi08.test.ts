// Sec-WebSocket-Version 7 and 8 (draft-ietf-hybi-thewebsocketprotocol-07/08) with legacy.hybi08,
// driven by a client written from the draft over raw sockets. Version 8 is accepted by default (as
// ws accepts it); 7 only with legacy.hybi08: true; legacy.hybi08: false accepts 13 only.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import type { WebSocket } from '../../src/index.js';
import { client, next, runCleanups, serve } from '../node/helpers.js';
import {
  HYBI_ACCEPT,
  headerOf,
  hybiMaskedFrame,
  hybiReadFrame,
  hybiRequest,
  rawConnection,
} from './draft-clients.js';

afterEach(runCleanups);

describe('hybi-07/08 (legacy.hybi08)', () => {
  for (const version of [8, 7]) {
    it(`version ${version}: the handshake with Sec-WebSocket-Origin, a text echo, the close`, async () => {
      const origins: (string | undefined)[] = [];
      const s = await serve({
        legacy: { hybi08: true },
        verifyClient: (info: { origin: string | undefined }) => {
          origins.push(info.origin);
          return true;
        },
      });
      s.wss.on('connection', (ws: WebSocket) => {
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      });
      const { socket, reader } = await rawConnection(s.port);
      socket.write(hybiRequest(version, 'http://old.example'));
      const head = await reader.head();
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.equal(headerOf(head, 'Sec-WebSocket-Accept'), HYBI_ACCEPT);
      assert.deepEqual(origins, ['http://old.example']);
      socket.write(hybiMaskedFrame(0x1, 'hello 08'));
      const echo = await hybiReadFrame(reader);
      assert.equal(echo.opcode, 0x1);
      assert.equal(echo.payload.toString(), 'hello 08');
      socket.write(hybiMaskedFrame(0x8, Buffer.from([0x03, 0xe8])));
      const close = await hybiReadFrame(reader);
      assert.equal(close.opcode, 0x8);
      assert.equal(close.payload.readUInt16BE(0), 1000);
      await reader.closed();
    });
  }

  it('a version it does not speak is refused with 400 and the list: 13, 8, 7', async () => {
    const s = await serve({ legacy: { hybi08: true } });
    const { socket, reader } = await rawConnection(s.port);
    socket.write(hybiRequest(6));
    const head = await reader.head();
    assert.match(head, /^HTTP\/1\.1 400 /);
    assert.equal(headerOf(head, 'Sec-WebSocket-Version'), '13, 8, 7');
  });

  it('by default (the option unset) version 8 is accepted, as ws accepts it, with Sec-WebSocket-Origin', async () => {
    const origins: (string | undefined)[] = [];
    const s = await serve({
      verifyClient: (info: { origin: string | undefined }) => {
        origins.push(info.origin);
        return true;
      },
    });
    const { socket, reader } = await rawConnection(s.port);
    socket.write(hybiRequest(8, 'http://old.example'));
    const head = await reader.head();
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.equal(headerOf(head, 'Sec-WebSocket-Accept'), HYBI_ACCEPT);
    assert.deepEqual(origins, ['http://old.example']);
    socket.destroy();
  });

  for (const [legacy, version, list] of [
    [undefined, 7, '13, 8'],
    [{ hybi08: false }, 8, '13'],
    [{ hybi08: false }, 7, '13'],
  ] as const) {
    it(`legacy ${JSON.stringify(legacy)}: version ${version} is refused: 400, Sec-WebSocket-Version: ${list}`, async () => {
      const s = await serve(legacy === undefined ? {} : { legacy });
      let connections = 0;
      s.wss.on('connection', () => connections++);
      const { socket, reader } = await rawConnection(s.port);
      socket.write(hybiRequest(version));
      const head = await reader.head();
      assert.match(head, /^HTTP\/1\.1 400 /);
      assert.equal(headerOf(head, 'Sec-WebSocket-Version'), list);
      await reader.closed();
      assert.equal(connections, 0);
    });
  }

  it('a wskit client with protocolVersion 8 connects, sending its origin as Sec-WebSocket-Origin (not Origin)', async () => {
    const s = await serve({ legacy: { hybi08: true } });
    const arrived = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws = client(s.url, { protocolVersion: 8, origin: 'http://old.example' });
    const [[, req]] = await Promise.all([arrived, next(ws, 'open')]);
    // draft-ietf-hybi-thewebsocketprotocol-08 §4.1: the origin goes in Sec-WebSocket-Origin; Origin
    // came with version 13 (RFC 6455 §4.1).
    assert.equal(req.headers['sec-websocket-version'], '8');
    assert.equal(req.headers['sec-websocket-origin'], 'http://old.example');
    assert.equal(req.headers.origin, undefined);
    // And version 13 the other way round.
    const current = next<[WebSocket, IncomingMessage]>(s.wss, 'connection');
    const ws13 = client(s.url, { origin: 'http://new.example' });
    const [[, req13]] = await Promise.all([current, next(ws13, 'open')]);
    assert.equal(req13.headers['sec-websocket-version'], '13');
    assert.equal(req13.headers.origin, 'http://new.example');
    assert.equal(req13.headers['sec-websocket-origin'], undefined);
  });
});
