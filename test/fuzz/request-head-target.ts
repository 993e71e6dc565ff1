// Fuzz target: the request-head parser (RequestHeadParser). Valid upgrade request heads are generated
// (random methods, targets, header names and cases, repeated fields, OWS, bytes after the head) and
// usually mutated (bytes flipped, inserted or deleted, CR/LF/NUL/colon/space injected, lines
// duplicated, dropped, folded or swapped, bodies announced, heads near the size and count limits),
// then fed in random chunks. Oracles: push() never throws; the result (state, status, head, the bytes
// after it) is the same for every chunking and equals that of a plain split-and-regex model of the
// rules the parser documents; a valid head is accepted as generated; Object.prototype is untouched.
import { performance } from 'node:perf_hooks';
import {
  type RequestHead,
  RequestHeadParser,
  type RequestHeadResult,
} from '../../src/protocol/http-request-head.js';
import type { Rng } from './prng.js';
import { type ModelResult, modelParse } from './request-head-model.js';
import { elapsedNs, FuzzFailure, type FuzzTarget, type IterationResult } from './runner.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export interface HeadCase {
  bytes: Buffer;
  maxHeaderSize: number;
  maxHeadersCount: number;
  /** Not mutated: the parser must accept it. */
  valid: boolean;
  mutations: string[];
}

function token(rng: Rng, max = 12): string {
  let s = '';
  const n = rng.range(1, max);
  for (let i = 0; i < n; i++) s += TCHARS[rng.int(TCHARS.length)];
  return s;
}

function randomCase(rng: Rng, s: string): string {
  if (rng.chance(0.5)) return s;
  let out = '';
  for (const c of s) out += rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase();
  return out;
}

/** A field value: visible latin1 characters, spaces and tabs inside. */
function fieldValue(rng: Rng, max = 40): string {
  let s = '';
  const n = rng.size(max);
  for (let i = 0; i < n; i++) {
    const r = rng.int(20);
    s +=
      r === 0
        ? ' '
        : r === 1
          ? '\t'
          : r === 2
            ? String.fromCharCode(rng.range(0xa1, 0xff))
            : String.fromCharCode(rng.range(0x21, 0x7e));
  }
  return s.trim();
}

function ows(rng: Rng): string {
  return rng.pick(['', '', ' ', '  ', '\t', ' \t ']);
}

function validHead(rng: Rng): string {
  let target = '/';
  const n = rng.size(60);
  for (let i = 0; i < n; i++)
    target += rng.chance(0.9)
      ? String.fromCharCode(rng.range(0x21, 0x7e))
      : String.fromCharCode(rng.range(0x80, 0xff));
  const method = rng.chance(0.8) ? 'GET' : token(rng, 8);
  const version = rng.chance(0.9) ? '1.1' : `${rng.int(10)}.${rng.int(10)}`;
  const fields: Array<[string, string]> = [
    ['Host', `localhost:${rng.range(1, 65535)}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (rng.chance(0.3))
    fields.push(['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']);
  if (rng.chance(0.3)) fields.push(['Sec-WebSocket-Protocol', 'chat, superchat']);
  const extra = rng.size(20);
  for (let i = 0; i < extra; i++) {
    const name = rng.chance(0.3)
      ? rng.pick([
          'Cookie',
          'Set-Cookie',
          'User-Agent',
          'Origin',
          'X-Repeat',
          '__proto__',
          'constructor',
          'toString',
          'Content-Length',
        ])
      : token(rng);
    const value = name === 'Content-Length' ? '0' : fieldValue(rng);
    fields.push([name, value]);
  }
  // Shuffled, Host kept once.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  const lines = fields
    .filter(
      ([name], i, all) =>
        name.toLowerCase() !== 'host' || all.findIndex(([n]) => n.toLowerCase() === 'host') === i,
    )
    .map(([name, value]) => `${randomCase(rng, name)}:${ows(rng)}${value}${ows(rng)}`);
  return `${rng.chance(0.1) ? '\r\n' : ''}${method} ${target} HTTP/${version}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

const INJECT = [
  '\r',
  '\n',
  '\r\n',
  '\0',
  ' ',
  '\t',
  ':',
  '\x7f',
  '\xff',
  '\x0b',
  '\x0c',
  '\xa0',
  '\r\n\r\n',
  '"',
  ',',
];

function mutateHead(
  rng: Rng,
  head: string,
  limits: { size: number; count: number },
): { text: string; applied: string[] } {
  const applied: string[] = [];
  let text = head;
  const count = rng.range(1, 3);
  for (let k = 0; k < count; k++) {
    const at = rng.int(text.length + 1);
    const lines = text.split('\r\n');
    const li = rng.int(Math.max(1, lines.length - 2));
    switch (rng.int(11)) {
      case 0:
        text = text.slice(0, at) + rng.pick(INJECT) + text.slice(at);
        applied.push(`inject at ${at}`);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + rng.range(1, 6));
        applied.push(`delete at ${at}`);
        break;
      case 2: {
        const c = text.charCodeAt(Math.min(at, text.length - 1)) ^ (1 << rng.int(8));
        text = text.slice(0, at) + String.fromCharCode(c) + text.slice(at + 1);
        applied.push(`flip at ${at}`);
        break;
      }
      case 3:
        lines.splice(li, 0, lines[li]);
        text = lines.join('\r\n');
        applied.push(`duplicate line ${li}`);
        break;
      case 4:
        lines.splice(li, 1);
        text = lines.join('\r\n');
        applied.push(`drop line ${li}`);
        break;
      case 5:
        lines[li] = ` ${lines[li]}`;
        text = lines.join('\r\n');
        applied.push(`fold line ${li}`);
        break;
      case 6:
        lines.splice(
          1,
          0,
          rng.pick([
            'Content-Length: 5',
            'Transfer-Encoding: chunked',
            'Host: other',
            'Content-Length: 0',
            'content-length:  0 ',
          ]),
        );
        text = lines.join('\r\n');
        applied.push('body or host field');
        break;
      case 7:
        text = text.slice(0, at);
        applied.push(`truncate at ${at}`);
        break;
      case 8: {
        // A field near the size limit.
        const filler = 'x'.repeat(Math.max(0, limits.size - text.length + rng.range(-8, 8)));
        lines.splice(1, 0, `X-Big: ${filler}`);
        text = lines.join('\r\n');
        applied.push('near maxHeaderSize');
        break;
      }
      case 9: {
        const many = Math.max(0, limits.count - lines.length + rng.range(-2, 3));
        lines.splice(1, 0, ...Array.from({ length: many }, (_, i) => `X-${i}: ${i}`));
        text = lines.join('\r\n');
        applied.push('near maxHeadersCount');
        break;
      }
      default: {
        const j = rng.int(lines.length);
        [lines[li], lines[j]] = [lines[j], lines[li]];
        text = lines.join('\r\n');
        applied.push(`swap lines ${li} ${j}`);
      }
    }
  }
  return { text, applied };
}

export function headCase(rng: Rng): HeadCase {
  const maxHeaderSize = rng.pick([16384, rng.range(64, 2048), rng.range(2048, 65536)]);
  const maxHeadersCount = rng.pick([100, rng.range(1, 40), 2000]);
  let text = validHead(rng);
  const mutations: string[] = [];
  const valid = rng.chance(0.25);
  if (!valid) {
    const m = mutateHead(rng, text, { size: maxHeaderSize, count: maxHeadersCount });
    text = m.text;
    mutations.push(...m.applied);
  }
  const after = rng.chance(0.5) ? rng.bytes(rng.size(64)) : Buffer.alloc(0);
  const bytes = Buffer.concat([Buffer.from(text, 'latin1'), after]);
  const fits =
    bytes.indexOf('\r\n\r\n') + 4 <= maxHeaderSize && text.split('\r\n').length - 3 <= maxHeadersCount;
  return { bytes, maxHeaderSize, maxHeadersCount, valid: valid && fits, mutations };
}

function randomChunks(rng: Rng, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  const style = rng.int(3);
  for (let pos = 0; pos < bytes.length; ) {
    const n = style === 0 ? 1 : style === 1 ? rng.range(1, 8) : rng.range(1, 600);
    chunks.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return chunks;
}

/** Feeds chunks until the parser answers; the answer, and the bytes after the head. */
function feed(c: HeadCase, chunks: Buffer[]): { result: RequestHeadResult; rest: Buffer } {
  const parser = new RequestHeadParser({
    maxHeaderSize: c.maxHeaderSize,
    maxHeadersCount: c.maxHeadersCount,
  });
  for (let i = 0; i < chunks.length; i++) {
    let result: RequestHeadResult;
    try {
      result = parser.push(chunks[i]);
    } catch (err) {
      throw new FuzzFailure(
        `push() threw ${err instanceof Error ? err.message : String(err)}`,
        err instanceof Error ? (err.stack ?? '') : '',
      );
    }
    if (result.state === 'done')
      return { result, rest: Buffer.concat([result.rest, ...chunks.slice(i + 1)]) };
    if (result.state === 'error') return { result, rest: Buffer.alloc(0) };
  }
  return { result: { state: 'incomplete' }, rest: Buffer.alloc(0) };
}

function sameHead(a: RequestHead, b: RequestHead): boolean {
  const entries = (h: Record<string, string | string[]>) =>
    JSON.stringify(Object.keys(h).map((k) => [k, h[k]]));
  return (
    a.method === b.method &&
    a.url === b.url &&
    a.httpVersion === b.httpVersion &&
    a.httpVersionMajor === b.httpVersionMajor &&
    a.httpVersionMinor === b.httpVersionMinor &&
    entries(a.headers) === entries(b.headers) &&
    JSON.stringify(a.rawHeaders) === JSON.stringify(b.rawHeaders)
  );
}

function describeResult(r: RequestHeadResult | ModelResult): string {
  if (r.state === 'incomplete') return 'incomplete';
  if (r.state === 'error') return `error ${r.status}${'reason' in r ? ` (${r.reason})` : ''}`;
  return `done ${JSON.stringify(r.head).slice(0, 300)}`;
}

export function describeHeadCase(c: HeadCase): string {
  return `limits ${c.maxHeaderSize} bytes, ${c.maxHeadersCount} fields; mutations: ${c.mutations.join(', ') || 'none'}\ninput (latin1): ${JSON.stringify(c.bytes.toString('latin1').slice(0, 2000))}`;
}

export function runHeadCase(c: HeadCase, rng: Rng): IterationResult {
  try {
    const model = modelParse(c.bytes, c.maxHeaderSize, c.maxHeadersCount);
    const start = performance.now();
    const whole = feed(c, [c.bytes]);
    const ns = elapsedNs(start);
    const check = (got: { result: RequestHeadResult; rest: Buffer }, what: string) => {
      const r = got.result;
      const ok =
        r.state === model.state &&
        (r.state !== 'error' || r.status === (model as { status: number }).status) &&
        (r.state !== 'done' ||
          (sameHead(r.head, (model as { head: RequestHead }).head) &&
            got.rest.equals(c.bytes.subarray((model as { restAt: number }).restAt))));
      if (!ok)
        throw new FuzzFailure(`${what}: got ${describeResult(r)}, the model says ${describeResult(model)}`);
    };
    check(whole, 'one chunk');
    if (c.valid && whole.result.state !== 'done')
      throw new FuzzFailure(`a valid head was refused: ${describeResult(whole.result)}`);
    check(feed(c, randomChunks(rng, c.bytes)), 'random chunks');
    if (Object.keys(Object.prototype).length !== 0) throw new FuzzFailure('Object.prototype was modified');
    const r = whole.result;
    return { bytes: c.bytes.length, ns, kind: r.state === 'error' ? `error ${r.status}` : r.state };
  } catch (err) {
    if (err instanceof FuzzFailure)
      throw new FuzzFailure(err.message, `${describeHeadCase(c)}\n${err.details}`);
    throw err;
  }
}

export function requestHeadTarget(): FuzzTarget {
  return { name: 'request-head', timed: true, iterate: (rng) => runHeadCase(headCase(rng), rng) };
}
