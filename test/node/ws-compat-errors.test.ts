// ws compatibility: the class of every error an application can catch or receive is the one ws uses
// (RangeError, TypeError, SyntaxError, Error), each run against ws and wskit side by side, and wskit's
// error is still a WebSocketError with a stable code.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import {
  WebSocketError,
  WebSocketRangeError,
  WebSocketServer,
  WebSocketSyntaxError,
  WebSocketTypeError,
  WebSocket as Wskit,
} from '../../src/index.js';
import {
  closeServer,
  defer,
  maskedFrame,
  next,
  rawWebSocket,
  runCleanups,
  serve,
  WsServer,
  WsWebSocket,
  wskitServer,
  wsServer,
} from './helpers.js';

afterEach(runCleanups);

type Ctor = new (...args: never[]) => Error;

/** What `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a throw');
}

/** Asserts that ws and wskit throw errors of the same built-in class, and wskit's is coded. */
function sameClass(ws: () => unknown, wskit: () => unknown, expected: Ctor): void {
  const a = thrown(ws);
  const b = thrown(wskit);
  assert.ok(a instanceof expected, `ws threw ${a.constructor.name}, expected ${expected.name}`);
  assert.ok(b instanceof expected, `wskit threw ${b.constructor.name}, expected ${expected.name}`);
  assert.equal(Object.getPrototypeOf(b.constructor.prototype), expected.prototype);
  assert.ok(b instanceof WebSocketError, 'every wskit error is a WebSocketError');
  assert.match((b as WebSocketError).code, /^WS_ERR_/);
}

describe('ws compatibility: error classes', () => {
  test('an unparsable URL, a scheme that is not ws/wss/http/https/ws+unix: SyntaxError', () => {
    sameClass(
      () => new WsWebSocket('not a url'),
      () => new Wskit('not a url'),
      SyntaxError,
    );
    sameClass(
      () => new WsWebSocket('ftp://127.0.0.1/'),
      () => new Wskit('ftp://127.0.0.1/'),
      SyntaxError,
    );
  });

  test('a duplicated subprotocol: SyntaxError; an unsupported protocolVersion: RangeError', () => {
    sameClass(
      () => new WsWebSocket('ws://127.0.0.1:1', ['chat', 'chat']),
      () => new Wskit('ws://127.0.0.1:1', ['chat', 'chat']),
      SyntaxError,
    );
    sameClass(
      () => new WsWebSocket('ws://127.0.0.1:1', { protocolVersion: 9 }),
      () => new Wskit('ws://127.0.0.1:1', { protocolVersion: 9 as 13 }),
      RangeError,
    );
  });

  test('server options that name no server: TypeError', () => {
    sameClass(
      () => new WsServer({}),
      () => new WebSocketServer({}),
      TypeError,
    );
  });

  test('close() with an invalid code: TypeError; a reason over 123 bytes or a ping over 125: RangeError', async () => {
    const wskit = await serve();
    const theirs = await wsServer();
    defer(() => closeServer(theirs.wss));
    const a = new WsWebSocket(theirs.url);
    const b = new Wskit(wskit.url);
    await Promise.all([next(a, 'open'), next(b, 'open')]);
    sameClass(
      () => a.close(999),
      () => b.close(999),
      TypeError,
    );
    sameClass(
      () => a.close(1000, 'x'.repeat(124)),
      () => b.close(1000, 'x'.repeat(124)),
      RangeError,
    );
    sameClass(
      () => a.ping(Buffer.alloc(126)),
      () => b.ping(Buffer.alloc(126)),
      RangeError,
    );
    a.terminate();
    b.terminate();
  });

  test("a peer's frame against RFC 6455 is a RangeError; invalid UTF-8 is a plain Error", async () => {
    for (const make of [wskitServer, wsServer]) {
      const server = await make();
      defer(() => closeServer(server.wss));
      const errors: Error[] = [];
      (server.wss as WebSocketServer).on('connection', (ws) => ws.on('error', (e) => errors.push(e)));
      // opcode 3 is reserved
      const bad = await rawWebSocket(server.port);
      bad.socket.write(maskedFrame(0x3, 'x'));
      await next(bad.socket, 'close');
      const utf8 = await rawWebSocket(server.port);
      utf8.socket.write(maskedFrame(0x1, Buffer.from([0xff, 0xfe])));
      await next(utf8.socket, 'close');
      assert.equal(errors.length, 2, `${make.name}: both connections reported an error`);
      assert.ok(errors[0] instanceof RangeError, `${make.name}: reserved opcode`);
      assert.equal((errors[0] as { code?: string }).code, 'WS_ERR_INVALID_OPCODE');
      assert.ok(!(errors[1] instanceof RangeError), `${make.name}: invalid UTF-8 is not a RangeError`);
      assert.equal((errors[1] as { code?: string }).code, 'WS_ERR_INVALID_UTF8');
    }
  });

  test("a peer's bad frame header fails with ws's code and ws's message", async () => {
    const fin = (frame: Buffer) => {
      frame[0] &= 0x7f;
      return frame;
    };
    const withBits = (frame: Buffer, bits: number) => {
      frame[0] |= bits;
      return frame;
    };
    const cases: [string, () => Buffer][] = [
      ['reserved data opcode', () => maskedFrame(0x5, 'x')],
      ['reserved control opcode', () => maskedFrame(0xb, 'x')],
      ['fragmented ping', () => fin(maskedFrame(0x9, 'x'))],
      ['RSV2 set', () => withBits(maskedFrame(0x1, 'x'), 0x20)],
      ['RSV1 with no extension', () => withBits(maskedFrame(0x1, 'x'), 0x40)],
      ['ping of 126 bytes', () => maskedFrame(0x9, Buffer.alloc(126))],
      ['unmasked frame from a client', () => Buffer.from([0x81, 0x02, 0x68, 0x69])],
    ];
    const seen: Record<string, [string, string | undefined, string][]> = {};
    for (const make of [wskitServer, wsServer]) {
      const server = await make();
      defer(() => closeServer(server.wss));
      const results: [string, string | undefined, string][] = [];
      for (const [what, frame] of cases) {
        const failed = new Promise<Error>((resolve) => {
          (server.wss as WebSocketServer).once('connection', (ws) => ws.once('error', resolve));
        });
        const { socket } = await rawWebSocket(server.port);
        defer(() => socket.destroy());
        socket.write(frame());
        const err = await next<[Error]>(socket, 'close').then(() => failed);
        results.push([what, (err as { code?: string }).code, err.message]);
      }
      seen[make.name] = results;
    }
    assert.deepEqual(seen.wskitServer, seen.wsServer);
    assert.deepEqual(seen.wsServer?.[0], [
      'reserved data opcode',
      'WS_ERR_INVALID_OPCODE',
      'Invalid WebSocket frame: invalid opcode 5',
    ]);
  });

  test('the classes: instanceof WebSocketError holds for each, and instanceof a subclass only for it', () => {
    const range = new WebSocketRangeError('WS_ERR_INVALID_OPCODE', 'x', { closeCode: 1002 });
    const type = new WebSocketTypeError('WS_ERR_INVALID_ARGUMENT', 'x');
    const syntax = new WebSocketSyntaxError('WS_ERR_INVALID_URL', 'x');
    const plain = new WebSocketError('WS_ERR_NOT_OPEN', 'x');
    for (const e of [range, type, syntax, plain]) assert.ok(e instanceof WebSocketError);
    assert.ok(range instanceof RangeError && !(type instanceof RangeError));
    assert.ok(!(plain instanceof WebSocketRangeError) && !(new Error('x') instanceof WebSocketError));
    assert.equal(range.closeCode, 1002);
    assert.equal(range.name, 'RangeError');
    // Named 'Error' as ws's errors are; WebSocketStream's WebSocketError (WHATWG) keeps its name.
    assert.equal(plain.name, 'Error');
    assert.match(String(plain), /^Error: x$/);
    assert.equal(new WebSocketError('WS_ERR_ABNORMAL_CLOSURE', 'x').name, 'WebSocketError');
    assert.match(String(syntax), /^SyntaxError: x$/);
  });
});
