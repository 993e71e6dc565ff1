// SECURITY.md, "Slow handshakes" (Slowloris: many connections that send their request head a byte
// at a time, or never finish it, to use up the server's sockets and memory). wskit's own server
// starts the handshake clock with the TCP connection: trickled bytes do not extend it, and after
// handshakeTimeout the socket gets 408 and is closed, while other clients are served meanwhile.
// maxPendingHandshakes caps how many connections may be waiting at once, and the same clock applies
// before the upgrade when wskit is attached to an http.Server.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from '../../src/index.js';
import {
  next,
  rawConnect,
  rawWebSocket,
  readAll,
  serve,
  statusOf,
  upgradeRequest,
  within,
} from './helpers.js';

const TIMEOUT = 300;

/** Sends `request` one byte every `everyMs` until the peer closes; resolves with what came back and when. */
async function trickle(
  port: number,
  request: string,
  everyMs: number,
): Promise<{ response: string; ms: number }> {
  const socket = await rawConnect(port);
  const start = performance.now();
  const response = readAll(socket, 10_000);
  let at = 0;
  const timer = setInterval(() => {
    if (at < request.length && !socket.destroyed) socket.write(request[at++]);
  }, everyMs);
  try {
    return { response: (await response).toString('latin1'), ms: performance.now() - start };
  } finally {
    clearInterval(timer);
  }
}

describe('slow handshakes (Slowloris)', () => {
  it('a request head trickled a byte every 20 ms gets 408 after handshakeTimeout: the bytes do not extend it', async () => {
    const { port } = await serve({ handshakeTimeout: TIMEOUT });
    const { response, ms } = await trickle(port, upgradeRequest(), 20);
    assert.equal(statusOf(response), 408);
    // Swept every quarter of the limit: between 1 and 1.25 times it, with room for a loaded machine.
    assert.ok(ms >= TIMEOUT * 0.9 && ms < TIMEOUT * 1.25 + 1000, `${ms.toFixed(0)} ms`);
  });

  it('200 connections holding half a request head each: all dropped with 408, and a real client is served meanwhile', async () => {
    // A longer limit here, so that opening the 200 connections on a loaded machine fits within it.
    const { port } = await serve({ handshakeTimeout: 2000 });
    const half = upgradeRequest().slice(0, 40);
    let slowAnswered = 0;
    const slow = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const socket = await rawConnect(port);
        socket.once('close', () => slowAnswered++);
        const response = readAll(socket, 10_000);
        socket.write(half);
        return { response }; // not the promise itself: Promise.all would wait for it
      }),
    );
    const { socket } = await rawWebSocket(port);
    assert.equal(slowAnswered, 0, 'the handshake waited for the slow ones to be dropped');
    const responses = await Promise.all(slow.map((s) => s.response));
    assert.equal(slowAnswered, 200);
    for (const r of responses) assert.equal(statusOf(r.toString('latin1')), 408);
    assert.equal(socket.destroyed, false, 'the upgraded connection is not touched by the handshake clock');
  });

  it('a connection that sends nothing at all is dropped too', async () => {
    const { port } = await serve({ handshakeTimeout: TIMEOUT });
    const socket = await rawConnect(port);
    assert.equal(statusOf((await readAll(socket)).toString('latin1')), 408);
  });

  it('maxPendingHandshakes: with 10, of 30 silent connections 20 are closed at once, long before handshakeTimeout', async () => {
    const { port } = await serve({ handshakeTimeout: 10_000, maxPendingHandshakes: 10 });
    const closes: Promise<boolean>[] = [];
    for (let i = 0; i < 30; i++) {
      const s: Socket = await rawConnect(port);
      // Listened to at once: the first ones over the cap may close while the next ones connect.
      const closed = new Promise<boolean>((resolve) => s.once('close', () => resolve(true)));
      closes.push(within(closed, 'a close', 1000).catch(() => false));
    }
    const closedSoon = await Promise.all(closes);
    assert.equal(closedSoon.filter(Boolean).length, 20);
  });

  it('attached to an http.Server: a request head trickled for longer than handshakeTimeout is dropped', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, handshakeTimeout: TIMEOUT });
    http.listen(0, '127.0.0.1');
    await next(http, 'listening');
    try {
      const port = (http.address() as AddressInfo).port;
      // Node's own headersTimeout is 60 s: only wskit's clock can end this within 3 s.
      const socket = await rawConnect(port);
      const request = upgradeRequest();
      let at = 0;
      const timer = setInterval(() => {
        if (at < request.length - 2 && !socket.destroyed) socket.write(request[at++]);
      }, 20);
      try {
        await within(new Promise((resolve) => socket.once('close', resolve)), 'the server to drop it', 3000);
      } finally {
        clearInterval(timer);
      }
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
