// The server's refusals against ws 8's: the same bad opening handshakes, sent over raw TCP to a ws
// server and to a wskit server, get the same status and the same body (ws's text), checked in the
// same order (a request with two faults is refused for the one ws looks at first), and the same
// versions listed (13, 8). Only what ws checks is compared (wskit also checks Host and Connection,
// after ws's checks, and malformed extensions with permessage-deflate off, which ws ignores).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { closeServer, defer, rawRequest, runCleanups, serve, upgradeRequest, wsServer } from './helpers.js';

afterEach(runCleanups);

function status(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  assert.ok(match, `not an HTTP response: ${JSON.stringify(response.slice(0, 80))}`);
  return Number(match[1]);
}

function header(response: string, name: string): string | undefined {
  const head = response.slice(0, response.indexOf('\r\n\r\n'));
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1].trim();
}

const BAD_KEY = { 'Sec-WebSocket-Key': 'dG9vIHNob3J0' };
const BAD_VERSION = { 'Sec-WebSocket-Version': '14' };
const BAD_PROTOCOL = { 'Sec-WebSocket-Protocol': 'chat, , bad token' };
const BAD_EXTENSIONS = { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' };
const OTHER_PATH = 'GET /other HTTP/1.1';

const cases: { name: string; request: string; first: string }[] = [
  { name: 'a POST', request: upgradeRequest(BAD_KEY, 'POST /ws HTTP/1.1'), first: 'method' },
  {
    name: 'Upgrade: h2c, and a bad key',
    request: upgradeRequest({ Upgrade: 'h2c', ...BAD_KEY }, OTHER_PATH),
    first: 'Upgrade',
  },
  {
    name: 'no key',
    request: upgradeRequest({ 'Sec-WebSocket-Key': null }, 'GET /ws HTTP/1.1'),
    first: 'key',
  },
  {
    name: 'a bad key and a bad version',
    request: upgradeRequest({ ...BAD_KEY, ...BAD_VERSION }, OTHER_PATH),
    first: 'key',
  },
  {
    name: 'no version, another path',
    request: upgradeRequest({ 'Sec-WebSocket-Version': null }, OTHER_PATH),
    first: 'version',
  },
  {
    name: 'version 7',
    request: upgradeRequest({ 'Sec-WebSocket-Version': '7' }, 'GET /ws HTTP/1.1'),
    first: 'version',
  },
  {
    name: 'a bad version and a bad subprotocol list',
    request: upgradeRequest({ ...BAD_VERSION, ...BAD_PROTOCOL }, 'GET /ws HTTP/1.1'),
    first: 'version',
  },
  {
    name: 'another path and a bad subprotocol list',
    request: upgradeRequest({ ...BAD_PROTOCOL, ...BAD_EXTENSIONS }, OTHER_PATH),
    first: 'path',
  },
  {
    name: 'a bad subprotocol list and bad extensions',
    request: upgradeRequest({ ...BAD_PROTOCOL, ...BAD_EXTENSIONS }, 'GET /ws HTTP/1.1'),
    first: 'protocol',
  },
  {
    name: 'bad extensions',
    request: upgradeRequest(BAD_EXTENSIONS, 'GET /ws HTTP/1.1'),
    first: 'extensions',
  },
];

describe("refusals as ws 8's: status and order", () => {
  for (const c of cases) {
    it(`${c.name}: refused for its ${c.first}, with ws's status`, async () => {
      // ws reads Sec-WebSocket-Extensions only with permessage-deflate on (wskit always does).
      const ws = await wsServer({ path: '/ws', perMessageDeflate: true });
      defer(() => closeServer(ws.wss));
      const wskit = await serve({ path: '/ws', perMessageDeflate: true });
      const fromWs = await rawRequest(ws.port, c.request);
      const fromWskit = await rawRequest(wskit.port, c.request);
      assert.equal(status(fromWskit), status(fromWs), `ws: ${fromWs.split('\r\n')[0]}`);
      if (c.first === 'version') {
        assert.equal(status(fromWskit), 400);
        assert.equal(header(fromWs, 'Sec-WebSocket-Version'), '13, 8');
        assert.equal(header(fromWskit, 'Sec-WebSocket-Version'), '13, 8');
      }
      const body = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);
      const expected: Record<string, string> = {
        method: 'Invalid HTTP method',
        Upgrade: 'Invalid Upgrade header',
        key: 'Missing or invalid Sec-WebSocket-Key header',
        version: 'Missing or invalid Sec-WebSocket-Version header',
        path: 'Bad Request',
        protocol: 'Invalid Sec-WebSocket-Protocol header',
        extensions: 'Invalid or unacceptable Sec-WebSocket-Extensions header',
      };
      assert.equal(body(fromWs), expected[c.first]);
      assert.equal(body(fromWskit), body(fromWs));
    });
  }

  it('with legacy.hybi08, the versions listed are 13, 8, 7', async () => {
    const wskit = await serve({ legacy: { hybi08: true } });
    const response = await rawRequest(wskit.port, upgradeRequest(BAD_VERSION));
    assert.equal(status(response), 400);
    assert.equal(header(response, 'Sec-WebSocket-Version'), '13, 8, 7');
  });
});
