// useCompactListenerTable and CompactEventEmitter: a connection's EventEmitter keeps working with the
// fast-object listener table.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import {
  CompactEventEmitter,
  LazyEventEmitter,
  useCompactListenerTable,
} from '../../src/node/transport/listener-table.js';
import { WebSocket } from './helpers.js';

/** Every EventEmitter method on `e`, including after all listeners are gone. */
function exerciseEveryMethod(e: EventEmitter): void {
  const calls: string[] = [];
  const a = (x: number) => calls.push(`a${x}`);
  const b = (x: number) => calls.push(`b${x}`);
  e.on('message', a);
  e.prependListener('message', b);
  e.once('close', () => calls.push('close'));
  e.on('toString', () => calls.push('toString')); // a name on Object.prototype: the table has none
  assert.equal(e.listenerCount('message'), 2);
  assert.deepEqual(e.eventNames(), ['message', 'close', 'toString']);
  e.emit('message', 1);
  e.emit('close');
  e.emit('close');
  e.emit('toString');
  assert.equal(e.emit('hasOwnProperty'), false);
  e.removeListener('message', b);
  e.emit('message', 2);
  e.removeAllListeners();
  assert.equal(e.emit('message', 3), false);
  e.on('message', a);
  e.emit('message', 4);
  assert.deepEqual(calls, ['b1', 'a1', 'close', 'toString', 'a2', 'a4']);
}

describe('useCompactListenerTable', () => {
  it('every EventEmitter method still works, including after all listeners are gone', () => {
    const e = new EventEmitter();
    useCompactListenerTable(e);
    exerciseEveryMethod(e);
  });

  it('leaves an emitter that already has listeners alone', () => {
    const e = new EventEmitter();
    const f = () => {};
    e.on('x', f);
    const table = (e as unknown as { _events: object })._events;
    useCompactListenerTable(e);
    assert.equal((e as unknown as { _events: object })._events, table);
    assert.deepEqual(e.listeners('x'), [f]);
  });

  it('the table is a fast-mode object (V8), where Node makes a dictionary', () => {
    const code = `
      import { EventEmitter } from 'node:events';
      import { useCompactListenerTable } from ${JSON.stringify(
        new URL('../../dist/node/transport/listener-table.js', import.meta.url).href,
      )};
      const plain = new EventEmitter();
      const compact = new EventEmitter();
      useCompactListenerTable(compact);
      for (const e of [plain, compact]) { e.on('message', () => {}); e.on('close', () => {}); }
      console.log(%HasFastProperties(plain._events), %HasFastProperties(compact._events));
    `;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'false true');
  });
});

describe("an upgraded connection's listener tables", () => {
  it("stay fast-mode objects (V8) through the handshake and the close; the LeanSocket's is never made", () => {
    // A listener removed from a fast table turns it into a ~200-byte dictionary (and makes every
    // emit slower): the handshake and the close must add only what they keep.
    const code = `
      import { WebSocketServer, WebSocket } from ${JSON.stringify(
        new URL('../../dist/index.js', import.meta.url).href,
      )};
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => wss.on('listening', resolve));
      const fast = (o) => %HasFastProperties(o._events);
      const seen = [];
      wss.on('connection', (ws) => {
        ws.on('message', (data) => ws.send(data));
        // wskit reads a LeanSocket through its sink: the socket has no listener table at all.
        seen.push(ws._socket.constructor.name, fast(ws), ws._socket._events === undefined);
        ws.on('close', () => {
          seen.push(fast(ws), ws._socket._events === undefined);
          console.log(JSON.stringify(seen));
          wss.close();
        });
      });
      const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
      client.on('open', () => client.send('x'));
      client.on('message', () => client.close());
      setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000).unref();
    `;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(JSON.parse(r.stdout.trim()), ['LeanSocket', true, true, true, true]);
  });
});

describe('CompactEventEmitter (the base of WebSocket and LeanSocket)', () => {
  class Emitter extends CompactEventEmitter {}

  it('is an EventEmitter with a compact table from the start, and every method works', () => {
    const e = new Emitter();
    assert.ok(e instanceof EventEmitter);
    const table = (e as unknown as { _events: object })._events;
    assert.equal(Object.getPrototypeOf(table), null);
    assert.deepEqual(Object.getOwnPropertySymbols(e), [], "none of EventEmitter's internal fields");
    exerciseEveryMethod(e);
    e.setMaxListeners(1);
    assert.equal(e.getMaxListeners(), 1);
  });

  it('LazyEventEmitter (LeanSocket): no table until the first listener, then every method works', () => {
    class Lazy extends LazyEventEmitter {}
    const e = new Lazy();
    assert.ok(e instanceof EventEmitter);
    assert.equal((e as unknown as { _events: unknown })._events, undefined);
    assert.equal(e.emit('data', 1), false);
    assert.equal(e.listenerCount('error'), 0);
    assert.deepEqual(e.eventNames(), []);
    e.removeListener('data', () => {});
    e.removeAllListeners();
    exerciseEveryMethod(e);
  });

  it("an 'error' with no listener throws, as with any EventEmitter", () => {
    assert.throws(() => new Emitter().emit('error', new Error('boom')), /boom/);
  });

  it('follows EventEmitter.captureRejections, read from the prototype', async () => {
    const before = EventEmitter.captureRejections;
    EventEmitter.captureRejections = true;
    try {
      const e = new Emitter();
      const caught = new Promise<Error>((resolve) => e.on('error', resolve));
      e.on('message', async () => {
        throw new Error('rejected');
      });
      e.emit('message');
      assert.equal((await caught).message, 'rejected');
    } finally {
      EventEmitter.captureRejections = before;
    }
  });
});

describe('WebSocket ready-state constants', () => {
  it('are on the prototype (and the class), not on each connection', () => {
    const ws = Object.create(WebSocket.prototype) as WebSocket;
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    assert.equal(Object.hasOwn(ws, 'OPEN'), false);
    assert.ok(Object.keys(WebSocket.prototype).includes('OPEN'), 'enumerable, as in ws');
  });
});
