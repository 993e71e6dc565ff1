// FlushBatch: the output a server's connections get outside their own receive is written from one
// process.nextTick for all of them, in the order it came, and an outbox that throws strands nobody.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { FlushBatch } from '../../src/node/connection/flush-batch.js';

describe('FlushBatch', () => {
  it('flushes every outbox added in a tick, in order, at the end of that tick', async () => {
    const batch = new FlushBatch();
    const flushed: string[] = [];
    batch.add({ flush: () => flushed.push('a') });
    batch.add({ flush: () => flushed.push('b') });
    batch.add({ flush: () => flushed.push('c') });
    assert.deepEqual(flushed, [], 'nothing is written before the tick ends');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.deepEqual(flushed, ['a', 'b', 'c']);
  });

  it('schedules one nextTick per tick, however many outboxes', async () => {
    const batch = new FlushBatch();
    const original = process.nextTick;
    let ticks = 0;
    process.nextTick = ((...args: Parameters<typeof process.nextTick>) => {
      ticks++;
      return original(...args);
    }) as typeof process.nextTick;
    try {
      for (let i = 0; i < 100; i++) batch.add({ flush() {} });
    } finally {
      process.nextTick = original;
    }
    assert.equal(ticks, 1);
  });

  it('what a flush adds is flushed by a later tick, not lost', async () => {
    const batch = new FlushBatch();
    const flushed: string[] = [];
    const later = { flush: () => flushed.push('later') };
    batch.add({
      flush: () => {
        flushed.push('first');
        batch.add(later);
        flushed.push('added');
      },
    });
    batch.run();
    assert.deepEqual(flushed, ['first', 'added'], 'not flushed within the run that added it');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(flushed, ['first', 'added', 'later']);
  });

  it('an outbox whose flush throws does not strand the ones after it', async () => {
    const batch = new FlushBatch();
    const flushed: string[] = [];
    batch.add({ flush: () => flushed.push('a') });
    batch.add({
      flush: () => {
        throw new Error('bug');
      },
    });
    batch.add({ flush: () => flushed.push('c') });
    assert.throws(() => batch.run(), /bug/);
    assert.deepEqual(flushed, ['a']);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.deepEqual(flushed, ['a', 'c']);
  });

  it("a server's publish reaches every subscriber, each in one write, the publisher's own included", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const clients = await Promise.all(
        [0, 1, 2].map(async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}`);
          await once(ws, 'open');
          return ws;
        }),
      );
      while (server.clients.size < 3) await once(server, 'connection');
      for (const ws of server.clients) ws.subscribe('t');
      const sockets = [...server.clients].map((ws) => ws._socket!);
      const writes = sockets.map(() => 0);
      sockets.forEach((socket, i) => {
        const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
        (socket as unknown as { write: (...a: unknown[]) => boolean }).write = (...a: unknown[]) => {
          writes[i]!++;
          return write(...a);
        };
      });
      const got = clients.map((ws) => once(ws, 'message'));
      server.publish('t', 'one');
      server.publish('t', 'two');
      assert.deepEqual(writes, [0, 0, 0], 'written at the end of the tick');
      const first = await Promise.all(got);
      assert.deepEqual(
        first.map(([data]) => String(data)),
        ['one', 'one', 'one'],
      );
      assert.deepEqual(writes, [1, 1, 1], 'both messages of the tick in one write per connection');
      for (const ws of clients) ws.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
