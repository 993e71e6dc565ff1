// A peer that breaks the protocol after the handshake, played by a raw TCP socket: the connection is
// failed with the right close code, which the peer reads in a Close frame, and with no 'error'
// listener nothing is thrown (a peer's misbehaviour must not crash the process).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  acceptFor,
  client,
  closeRawServer,
  defer,
  keyOf,
  maskedFrame,
  next,
  rawServer,
  rawWebSocket,
  readAll,
  recordClose,
  runCleanups,
  serve,
  serverFrames,
  WebSocket,
} from './helpers.js';

afterEach(runCleanups);

const violations: { name: string; bytes: () => Buffer; closeCode: number; code: string }[] = [
  {
    name: 'an unmasked frame from a client',
    bytes: () => Buffer.from([0x81, 0x02, 0x68, 0x69]),
    closeCode: 1002,
    code: 'WS_ERR_EXPECTED_MASK',
  },
  {
    name: 'a reserved opcode',
    bytes: () => maskedFrame(0x3, 'x'),
    closeCode: 1002,
    code: 'WS_ERR_INVALID_OPCODE',
  },
  {
    name: 'invalid UTF-8 in a text message',
    bytes: () => maskedFrame(0x1, Buffer.from([0x68, 0xc3, 0x28])),
    closeCode: 1007,
    code: 'WS_ERR_INVALID_UTF8',
  },
  {
    name: 'a fragmented control frame',
    bytes: () => maskedFrame(0x9, 'ping', false),
    closeCode: 1002,
    code: 'WS_ERR_EXPECTED_FIN',
  },
  {
    name: 'a continuation with no message started',
    bytes: () => maskedFrame(0x0, 'orphan'),
    closeCode: 1002,
    code: 'WS_ERR_UNEXPECTED_CONTINUATION',
  },
  {
    name: 'a Close frame with a code that may not be sent (1006)',
    bytes: () => maskedFrame(0x8, Buffer.from([0x03, 0xee])),
    closeCode: 1002,
    code: 'WS_ERR_INVALID_CLOSE_CODE',
  },
];

describe('a client that breaks the protocol', () => {
  for (const v of violations) {
    for (const listening of [false, true]) {
      it(`${v.name}: Close ${v.closeCode}${listening ? ", and 'error' when listened to" : ', nothing thrown'}`, async () => {
        const s = await serve({ heartbeat: false });
        const connection = next<[WebSocket]>(s.wss, 'connection');
        const { socket } = await rawWebSocket(s.port);
        defer(() => socket.destroy());
        const received = readAll(socket);
        const [peer] = await connection;
        const errors: (Error & { code?: string; closeCode?: number })[] = [];
        if (listening) peer.on('error', (err: Error) => errors.push(err));
        let messages = 0;
        peer.on('message', () => messages++);
        const closed = recordClose(peer);
        socket.write(v.bytes());
        // The server answers with its Close and ends TCP; the raw client then closes its side.
        const frames = serverFrames(await received);
        assert.equal(frames.length, 1);
        assert.equal(frames[0].opcode, 0x8);
        assert.equal(frames[0].payload.readUInt16BE(0), v.closeCode);
        // No Close was received: 'close' reports 1006 (RFC 6455 §7.1.5, as ws); the code sent is the error's.
        assert.deepEqual(await closed, { code: 1006, reason: '' });
        assert.equal(messages, 0);
        if (listening) {
          assert.equal(errors.length, 1);
          assert.equal(errors[0].code, v.code);
          assert.equal(errors[0].closeCode, v.closeCode);
        }
        assert.equal(peer.readyState, WebSocket.CLOSED);
      });
    }
  }

  it('a frame over maxPayload: Close 1009, checked from the header before the payload comes', async () => {
    const s = await serve({ heartbeat: false, maxPayload: 100 });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    const received = readAll(socket);
    const [peer] = await connection;
    const closed = recordClose(peer);
    // The header of a 1 GiB frame, and no payload at all.
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);
    socket.write(header);
    const frames = serverFrames(await received);
    assert.equal(frames[0].payload.readUInt16BE(0), 1009);
    assert.equal((await closed).code, 1006);
  });
});

describe('a server that breaks the protocol', () => {
  it('a masked frame from the server: the client fails the connection with 1002', async () => {
    const raw = await rawServer((request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(keyOf(request))}\r\n\r\n`,
      );
      socket.write(maskedFrame(0x1, 'masked'));
      socket.on('data', (chunk: Buffer) => {
        // The client's Close (masked): read its code, then hang up.
        if ((chunk[0] & 0x0f) === 0x8) {
          const mask = chunk.subarray(2, 6);
          const code = ((chunk[6] ^ mask[0]) << 8) | (chunk[7] ^ mask[1]);
          socket.end(`${code}`);
          closeCodes.push(code);
        }
      });
    });
    const closeCodes: number[] = [];
    defer(() => closeRawServer(raw));
    const ws = client(`ws://127.0.0.1:${raw.port}`);
    let messages = 0;
    ws.on('message', () => messages++);
    const closed = recordClose(ws);
    const error = next<[Error & { closeCode?: number }]>(ws, 'error');
    assert.equal((await error)[0].closeCode, 1002);
    assert.equal((await closed).code, 1006);
    assert.deepEqual(closeCodes, [1002]);
    assert.equal(messages, 0);
  });
});
