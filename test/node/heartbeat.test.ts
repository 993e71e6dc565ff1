// The built-in heartbeat: a silent peer is pinged after `interval` ms and terminated (1006) when nothing
// arrives within `timeout` ms; a peer that answers stays; the client can run one too.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  client,
  connected,
  defer,
  next,
  rawWebSocket,
  readAll,
  recordClose,
  runCleanups,
  serve,
  serverFrames,
  WebSocket,
  WsServer,
  WsWebSocket,
  within,
} from './helpers.js';

afterEach(runCleanups);

const heartbeat = { interval: 50, timeout: 50 };

describe('server heartbeat', () => {
  it('pings a silent raw TCP client, then terminates it: 1006 and WS_ERR_HEARTBEAT_TIMEOUT', async () => {
    const s = await serve({ heartbeat });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const started = Date.now();
    const { socket } = await rawWebSocket(s.port);
    defer(() => socket.destroy());
    const received = readAll(socket);
    const [peer] = await connection;
    const error = next<[Error & { code?: string }]>(peer, 'error');
    const closed = recordClose(peer);
    assert.equal((await error)[0].code, 'WS_ERR_HEARTBEAT_TIMEOUT');
    assert.deepEqual(await closed, { code: 1006, reason: '' });
    const elapsed = Date.now() - started;
    // Not before interval + timeout; and soon after (the slack only absorbs a loaded machine).
    assert.ok(elapsed >= heartbeat.interval + heartbeat.timeout - 5, `terminated after ${elapsed} ms`);
    assert.ok(elapsed < heartbeat.interval + heartbeat.timeout + 1000, `terminated after ${elapsed} ms`);
    // The raw client saw a Ping (and nothing else), then the connection was cut.
    const frames = serverFrames(await received);
    assert.deepEqual(
      frames.map((f) => f.opcode),
      [0x9],
    );
    assert.equal(s.wss.clients.size, 0);
  });

  it('terminates a ws client that does not answer pings (autoPong: false)', async () => {
    const s = await serve({ heartbeat });
    const connection = next<[WebSocket]>(s.wss, 'connection');
    const ws = new WsWebSocket(s.url, { autoPong: false });
    defer(() => ws.terminate());
    const pinged = next(ws, 'ping');
    const atClient = recordClose(ws);
    const [peer] = await connection;
    const atServer = recordClose(peer);
    await pinged;
    assert.equal((await atServer).code, 1006);
    assert.equal((await atClient).code, 1006);
  });

  it('keeps a client that answers: pinged again and again, never terminated', async () => {
    const s = await serve({ heartbeat });
    const { ws, peer } = await connected(s);
    let closed = false;
    peer.on('close', () => {
      closed = true;
    });
    const pongs: number[] = [];
    peer.on('pong', () => pongs.push(Date.now()));
    // Three pings, each answered: well past interval + timeout.
    const threePings = within(
      new Promise<void>((resolve) => {
        let pings = 0;
        ws.on('ping', () => ++pings === 3 && resolve());
      }),
      'three pings',
    );
    await threePings;
    assert.equal(closed, false);
    assert.equal(peer.readyState, WebSocket.OPEN);
    assert.ok(pongs.length >= 2);
  });

  it('a busy peer is never pinged: any data counts as a sign of life', async () => {
    // An interval well above the gaps between messages even on a loaded machine (a stalled event loop
    // of 150 ms was seen to make a ping due).
    const s = await serve({ heartbeat: { interval: 500, timeout: 500 } });
    const { ws, peer } = await connected(s);
    let pinged = false;
    ws.on('ping', () => {
      pinged = true;
    });
    // Messages every 10 ms for 600 ms: the silence never comes near the interval.
    let count = 0;
    const done = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        ws.send('tick');
        if (++count === 60) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    let received = 0;
    const all = new Promise<void>((resolve) => peer.on('message', () => ++received === 60 && resolve()));
    await within(done, 'the messages to be sent');
    await within(all, 'the messages to arrive');
    assert.equal(pinged, false);
    assert.equal(peer.readyState, WebSocket.OPEN);
  });

  it('a connection the application paused is not terminated: its silence is ours', async () => {
    const s = await serve({ heartbeat });
    const { ws, peer } = await connected(s);
    peer.pause(); // e.g. a slow consumer of a stream or an async iterator
    let closed = false;
    peer.on('close', () => {
      closed = true;
    });
    // Another client's heartbeat as a clock: three answered pings, well past interval + timeout.
    const clock = await connected(s, '', { heartbeat });
    await within(
      new Promise<void>((resolve) => {
        let pongs = 0;
        clock.ws.on('pong', () => ++pongs === 3 && resolve());
      }),
      'three pongs',
    );
    assert.equal(closed, false);
    assert.equal(peer.readyState, WebSocket.OPEN);
    peer.resume();
    const message = next<[Buffer]>(peer, 'message');
    ws.send('still here');
    assert.equal((await message)[0].toString(), 'still here');
  });

  it('heartbeat: false never pings', async () => {
    const s = await serve({ heartbeat: false });
    const { ws } = await connected(s);
    let pinged = false;
    ws.on('ping', () => {
      pinged = true;
    });
    // The client's own heartbeat proves time passed: it pings the server twice (answered).
    const clientSide = await connected(s, '', { heartbeat });
    await within(
      new Promise<void>((resolve) => {
        let pongs = 0;
        clientSide.ws.on('pong', () => ++pongs === 2 && resolve());
      }),
      'two pongs',
    );
    assert.equal(pinged, false);
    assert.equal(ws.readyState, WebSocket.OPEN);
  });
});

describe('client heartbeat', () => {
  it('terminates the connection to a server that does not answer pings', async () => {
    const wss = new WsServer({ port: 0, host: '127.0.0.1', autoPong: false });
    defer(() => new Promise((resolve) => wss.close(resolve)));
    defer(() => {
      for (const c of wss.clients) c.terminate();
    });
    await next(wss, 'listening');
    const port = (wss.address() as { port: number }).port;
    const ws = client(`ws://127.0.0.1:${port}`, { heartbeat });
    const error = next<[Error & { code?: string }]>(ws, 'error');
    const closed = recordClose(ws);
    assert.equal((await error)[0].code, 'WS_ERR_HEARTBEAT_TIMEOUT');
    assert.equal((await closed).code, 1006);
  });
});

describe('heartbeat clock', () => {
  /** A connection with no transport whose pings are counted. */
  async function member() {
    const { Connection } = await import('../../src/node/connection/connection.js');
    class Counted extends Connection {
      pings = 0;
      protected override canSend(): boolean {
        return true;
      }
      override outbox(): never {
        return { control: () => this.pings++ } as never;
      }
    }
    return new Counted(true, {});
  }

  it('keeps times as 32-bit integers, and pings on time across the move of its epoch past 2^30 ms', async () => {
    const { Heartbeat } = await import('../../src/node/connection/heartbeat.js');
    const hb = new Heartbeat(1000, 500);
    defer(() => hb.stop());
    const ws = await member();
    hb.add(ws);
    const epoch = (hb as unknown as { epoch: number }).epoch;
    const isInt32 = (n: number) => (n | 0) === n;
    // Silent from the start: pinged once `interval` has passed, not before.
    hb.check(epoch + 999);
    assert.equal(ws.pings, 0);
    // 12 days later (past 2^30 ms): the epoch moves; the member's idle time is still measured right.
    const late = epoch + 2 ** 30 + 5000;
    hb.check(late);
    assert.equal(ws.pings, 1, 'idle for days: pinged');
    assert.ok((hb as unknown as { epoch: number }).epoch > epoch, 'the epoch moved');
    assert.ok(isInt32(ws._hbIdleSince) && isInt32(ws._hbPingAt) && ws._hbPingAt > 0);
    // The answer: data seen, then silence again for interval - 1 ms (no ping), then interval (ping).
    ws._hbSeen = true;
    hb.check(late + 10);
    assert.equal(ws._hbPingAt, 0);
    hb.check(late + 10 + 999);
    assert.equal(ws.pings, 1);
    hb.check(late + 10 + 1000);
    assert.equal(ws.pings, 2);
    assert.ok(isInt32(ws._hbIdleSince) && isInt32(ws._hbPingAt));
  });
});
