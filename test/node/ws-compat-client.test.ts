// ws compatibility of the client, each case run against ws's client and wskit's side by side: what
// the opening handshake offers.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { WebSocket as Wskit } from '../../src/index.js';
import { closeRawServer, defer, rawServer, runCleanups, WsWebSocket, within } from './helpers.js';

afterEach(runCleanups);

type Options = Record<string, unknown>;

/** The Sec-WebSocket-Extensions header each client sends with `options` (the server never answers). */
async function offers(options: Options): Promise<{ ws: string | undefined; wskit: string | undefined }> {
  const requests: string[] = [];
  let arrived: () => void = () => {};
  const both = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const raw = await rawServer((request, socket) => {
    requests.push(request);
    socket.destroy();
    if (requests.length === 2) arrived();
  });
  defer(() => closeRawServer(raw));
  const url = `ws://127.0.0.1:${raw.port}`;
  new WsWebSocket(`${url}/ws`, options).on('error', () => {});
  new Wskit(`${url}/wskit`, options as never).on('error', () => {});
  await within(both, 'both handshake requests');
  const header = (path: string) => {
    const request = requests.find((r) => r.startsWith(`GET ${path} `));
    assert.ok(request !== undefined, `no request for ${path}`);
    return /^sec-websocket-extensions:[ \t]*(.*?)[ \t]*$/im.exec(request)?.[1];
  };
  return { ws: header('/ws'), wskit: header('/wskit') };
}

describe('ws compatibility: the client offer', () => {
  const cases: [string, Options][] = [
    ['default', {}],
    ['perMessageDeflate: true', { perMessageDeflate: true }],
    ['clientMaxWindowBits: true', { perMessageDeflate: { clientMaxWindowBits: true } }],
    ['clientMaxWindowBits: 10', { perMessageDeflate: { clientMaxWindowBits: 10 } }],
    [
      'no context takeover asked for',
      { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true } },
    ],
    ['perMessageDeflate: false', { perMessageDeflate: false }],
  ];
  for (const [what, options] of cases) {
    test(`${what}: the same Sec-WebSocket-Extensions as ws's client (parameters in any order)`, async () => {
      const { ws, wskit } = await offers(options);
      const params = (h: string | undefined) =>
        h
          ?.split(';')
          .map((p) => p.trim())
          .sort();
      assert.deepEqual(params(wskit), params(ws));
    });
  }
});
