// Yjs over wskit: y-websocket's server side (setupWSConnection, written for ws) on a wskit
// WebSocketServer, and its WebsocketProvider with wskit's WebSocket as WebSocketPolyfill. Documents are
// synced between clients through the server only (BroadcastChannel, which would sync them within one
// process without a socket, is off).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { WebsocketProvider as Provider } from 'y-websocket';
import type * as YType from 'yjs';
import { WebSocket, type WebSocketServer } from '../../../src/index.js';
import { closeServer, within, wskitServer } from '../../node/helpers.js';

// One copy of yjs for the server and the clients: y-websocket's server side is CommonJS, so everything
// here is required (importing yjs as ESM as well would load it twice).
const require = createRequire(import.meta.url);
const Y = require('yjs') as typeof YType;
const { WebsocketProvider } = require('y-websocket') as { WebsocketProvider: typeof Provider };
const { setupWSConnection, docs } = require('y-websocket/bin/utils') as {
  setupWSConnection(conn: WebSocket, req: IncomingMessage, options?: { docName?: string }): void;
  /** The server's documents, by name (kept after their last client leaves). */
  docs: Map<string, YType.Doc>;
};

/** Resolves once `check()` holds, re-checking at each update of `doc`. */
function until(doc: YType.Doc, check: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (check()) return resolve();
      const onUpdate = () => {
        if (!check()) return;
        doc.off('update', onUpdate);
        resolve();
      };
      doc.on('update', onUpdate);
    }),
    what,
  );
}

describe('y-websocket on a wskit WebSocketServer', () => {
  let wss: WebSocketServer;
  let url: string;
  const providers: Provider[] = [];

  before(async () => {
    ({ wss, url } = await wskitServer());
    wss.on('connection', (conn: WebSocket, req: IncomingMessage) => setupWSConnection(conn, req));
  });
  after(async () => {
    for (const p of providers) {
      p.destroy();
      p.doc.destroy(); // and with it its awareness, whose timer would keep the process alive
    }
    await closeServer(wss);
    for (const doc of docs.values()) doc.destroy();
  });

  /** A document and its provider, connected and synced with the server. */
  async function join(room: string): Promise<{ doc: YType.Doc; provider: Provider }> {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(url, room, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    });
    providers.push(provider);
    await within(
      new Promise<void>((resolve) => provider.once('sync', () => resolve())),
      `the provider of ${room} to sync`,
    );
    return { doc, provider };
  }

  it('syncs edits between two clients, both ways', async () => {
    const a = await join('shared-doc');
    const b = await join('shared-doc');
    assert.ok(a.provider.ws instanceof WebSocket, 'the provider connected with wskit');
    a.doc.getText('text').insert(0, 'hello');
    await until(b.doc, () => b.doc.getText('text').toString() === 'hello', 'the edit at b');
    b.doc.getText('text').insert(5, ' world');
    b.doc.getMap('meta').set('title', 'wskit');
    await until(a.doc, () => a.doc.getMap('meta').get('title') === 'wskit', 'the edits at a');
    assert.equal(a.doc.getText('text').toString(), 'hello world');
  });

  it('gives a client that joins later the whole document', async () => {
    const first = await join('late-join');
    first.doc.getArray<number>('list').push([1, 2, 3]);
    // The server has it once a second client sees it; a third then gets it from the server's sync.
    const second = await join('late-join');
    await until(second.doc, () => second.doc.getArray('list').length === 3, 'the list at the second');
    first.provider.destroy();
    const third = await join('late-join');
    await until(third.doc, () => third.doc.getArray('list').length === 3, 'the list at the third');
    assert.deepEqual(third.doc.getArray('list').toArray(), [1, 2, 3]);
  });

  it('shares awareness (presence) between clients', async () => {
    const a = await join('presence');
    const b = await join('presence');
    const seen = within(
      new Promise<void>((resolve) => {
        const check = () => {
          const states = [...b.provider.awareness.getStates().values()];
          if (states.some((s) => (s as { user?: string }).user === 'ada')) resolve();
        };
        b.provider.awareness.on('change', check);
        check();
      }),
      "a's presence at b",
    );
    a.provider.awareness.setLocalStateField('user', 'ada');
    await seen;
  });

  it('keeps documents of different rooms apart', async () => {
    const red = await join('room-red');
    const redWatcher = await join('room-red');
    const blue = await join('room-blue');
    const blueWatcher = await join('room-blue');
    red.doc.getText('t').insert(0, 'red');
    // Once the server has relayed red's edit, blue's comes after it on every connection it shares.
    await until(redWatcher.doc, () => redWatcher.doc.getText('t').toString() === 'red', 'red at its watcher');
    blue.doc.getText('t').insert(0, 'blue');
    await until(blueWatcher.doc, () => blueWatcher.doc.getText('t').length > 0, 'blue at its watcher');
    assert.equal(blueWatcher.doc.getText('t').toString(), 'blue');
  });
});
