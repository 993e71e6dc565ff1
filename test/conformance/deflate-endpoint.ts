// What both permessage-deflate conformance runs (over HTTP/1.1 in deflate.test.ts, over HTTP/2
// streams in test/http2/deflate-conformance.test.ts) share: the cases, the endpoint's echo and its
// options, and the check of negotiated parameters.
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { compression } from './cases/compression.js';
import { compressionErrors } from './cases/compression-errors.js';
import { compressionParams } from './cases/compression-params.js';
import { type DeflateParams, optionsFor, paramsOf } from './deflate.js';
import type { DeflateCase, DeflateCaseContext } from './deflate-case.js';

export const GROUPS = [compression, compressionErrors, compressionParams];

/** The endpoint's echo: same type, compressed unless the text starts with "plain:". */
export function echo(ws: EventEmitter & { send(data: Buffer, options: object): unknown }): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const plain = !isBinary && data.subarray(0, 6).toString('latin1') === 'plain:';
    ws.send(data, { binary: isBinary, compress: !plain });
  });
}

export function perMessageDeflate(c: DeflateCase, params: DeflateParams | null): object | boolean {
  return params === null ? true : optionsFor(params, c.deflateOptions);
}

export function sameParams(got: string | undefined, expected: string, what: string): void {
  assert.ok(got !== undefined, `no ${what}`);
  assert.deepEqual(paramsOf(got), paramsOf(expected), `${what}: ${got}`);
}

export interface Setup {
  ctx: DeflateCaseContext;
  cleanup: () => Promise<void>;
}
