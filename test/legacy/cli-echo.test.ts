// `wskit echo --legacy`: one server for a hixie-76 client, a hybi-08 client and a Flash policy
// request, each written from its draft over raw sockets.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startEcho, stopAll } from '../cli/helpers.js';
import {
  hixie76Connect,
  hixie76Read,
  hixie76Text,
  hybiMaskedFrame,
  hybiReadFrame,
  hybiRequest,
  rawConnection,
} from './draft-clients.js';

afterEach(stopAll);

describe('wskit echo --legacy', () => {
  it('echoes for hixie-76 and hybi-08 clients and answers the Flash policy request', async () => {
    const { cli, url } = await startEcho('--legacy');
    const port = Number(new URL(url).port);

    const hixie = await hixie76Connect(port);
    assert.match(hixie.head, /^HTTP\/1\.1 101 WebSocket Protocol Handshake/);
    assert.deepEqual(hixie.answer, hixie.expected);
    hixie.socket.write(hixie76Text('old times'));
    assert.equal(await hixie76Read(hixie.reader), 'old times');
    hixie.socket.write(Buffer.from([0xff, 0x00]));
    assert.equal(await hixie76Read(hixie.reader), 'close');
    await cli.waitForLine('stdout', /^connection 1 closed: 1005$/);

    const hybi = await rawConnection(port);
    hybi.socket.write(hybiRequest(8));
    assert.match(await hybi.reader.head(), /^HTTP\/1\.1 101 /);
    hybi.socket.write(hybiMaskedFrame(0x1, 'draft 08'));
    assert.equal((await hybiReadFrame(hybi.reader)).payload.toString(), 'draft 08');
    hybi.socket.destroy();

    const flash = await rawConnection(port);
    flash.socket.write('<policy-file-request/>\0');
    const policy = (await flash.reader.closed()).toString('latin1');
    assert.ok(policy.includes(`to-ports="${port}"`), policy);
    assert.ok(policy.endsWith('\0'));
  });
});
