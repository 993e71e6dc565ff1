// The suite's side of permessage-deflate (RFC 7692), built on node:zlib and independent of src/: the
// offers and answers of the opening handshake, and the compression of what the suite sends and the
// decompression of what the endpoint under test sends, each with the window and context-takeover rule
// negotiated for its direction. A window or takeover rule the endpoint breaks makes inflating fail.
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  deflateRawSync,
  type InflateRaw,
  inflateRawSync,
} from 'node:zlib';

/** The 4 bytes a sync flush ends with: removed by the sender, appended by the receiver (§7.2.1, §7.2.2). */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Negotiated parameters (windows 15 when not negotiated). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export const NO_TAKEOVER: DeflateParams = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/** A permessage-deflate element as a set of `name` or `name=value` strings, sorted (order does not matter). */
export function paramsOf(element: string): string[] {
  const [name, ...params] = element.split(';').map((p) => p.trim());
  if (name.toLowerCase() !== 'permessage-deflate') throw new Error(`not permessage-deflate: ${element}`);
  return params.map((p) => p.replace(/\s*=\s*"?([^"]*)"?$/, '=$1')).sort();
}

/** The offer a client makes for `p`, as the ws API's options produce it. */
export function offerFor(p: DeflateParams): string {
  const parts = ['permessage-deflate'];
  if (p.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (p.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (p.serverMaxWindowBits < 15) parts.push(`server_max_window_bits=${p.serverMaxWindowBits}`);
  parts.push(
    p.clientMaxWindowBits < 15 ? `client_max_window_bits=${p.clientMaxWindowBits}` : 'client_max_window_bits',
  );
  return parts.join('; ');
}

/** The answer a server accepting offerFor(p) gives. */
export function answerFor(p: DeflateParams): string {
  const parts = ['permessage-deflate'];
  if (p.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (p.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (p.serverMaxWindowBits < 15) parts.push(`server_max_window_bits=${p.serverMaxWindowBits}`);
  if (p.clientMaxWindowBits < 15) parts.push(`client_max_window_bits=${p.clientMaxWindowBits}`);
  return parts.join('; ');
}

/** The `perMessageDeflate` options (ws API, which wskit shares) that make an endpoint offer or accept `p`. */
export function optionsFor(p: DeflateParams, extra: object = {}): Record<string, unknown> {
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    clientNoContextTakeover: p.clientNoContextTakeover,
    serverMaxWindowBits: p.serverMaxWindowBits < 15 ? p.serverMaxWindowBits : undefined,
    clientMaxWindowBits: p.clientMaxWindowBits < 15 ? p.clientMaxWindowBits : undefined,
    threshold: 0,
    ...extra,
  };
}

/** zlib cannot do a raw-deflate window of 256 bytes; 9 is the smallest (and inflates anything 8 allows). */
const bitsOf = (bits: number) => Math.max(9, bits);

/** Runs a zlib stream over one message: write, sync flush, collect. */
function pushThrough(stream: DeflateRaw | InflateRaw, chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer) => out.push(c);
    const onError = (err: Error) => {
      stream.off('data', onData);
      reject(err);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    for (const c of chunks) stream.write(c);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(Buffer.concat(out));
    });
  });
}

/**
 * One direction of a connection as the suite sees it: `compress` for what the suite sends, with the
 * window and takeover rule of its role; `inflate` for what the endpoint sends, with the endpoint's.
 */
export class SuiteCodec {
  private deflater: DeflateRaw | null = null;
  private inflater: InflateRaw | null = null;
  private readonly sendBits: number;
  private readonly sendTakeover: boolean;
  readonly receiveBits: number;
  readonly receiveTakeover: boolean;

  /** @param role the suite's role: a 'client' compresses with the client's parameters. */
  constructor(params: DeflateParams, role: 'client' | 'server') {
    const client = role === 'client';
    this.sendBits = bitsOf(client ? params.clientMaxWindowBits : params.serverMaxWindowBits);
    this.sendTakeover = !(client ? params.clientNoContextTakeover : params.serverNoContextTakeover);
    this.receiveBits = bitsOf(client ? params.serverMaxWindowBits : params.clientMaxWindowBits);
    this.receiveTakeover = !(client ? params.serverNoContextTakeover : params.clientNoContextTakeover);
  }

  /** Compresses one message (tail removed); with takeover, the history of earlier messages is used. */
  async compress(payload: Buffer): Promise<Buffer> {
    if (!this.sendTakeover) return deflateMessage(payload, this.sendBits);
    this.deflater ??= createDeflateRaw({ windowBits: this.sendBits, level: 6 });
    return withoutTail(await pushThrough(this.deflater, [payload]));
  }

  /** Inflates one message the endpoint sent (all its frames' payloads, joined). */
  async inflate(data: Buffer): Promise<Buffer> {
    if (!this.receiveTakeover) {
      return inflateRawSync(Buffer.concat([data, TAIL]), {
        windowBits: this.receiveBits,
        finishFlush: constants.Z_SYNC_FLUSH,
      });
    }
    this.inflater ??= createInflateRaw({ windowBits: this.receiveBits });
    return pushThrough(this.inflater, [data, TAIL]);
  }

  close(): void {
    this.deflater?.close();
    this.inflater?.close();
  }
}

function withoutTail(data: Buffer): Buffer {
  if (!data.subarray(-4).equals(TAIL)) throw new Error('deflate output does not end with a sync flush');
  return data.subarray(0, -4);
}

/** One message compressed on its own (no context), sync-flushed, tail removed. */
export function deflateMessage(payload: Buffer, windowBits = 15): Buffer {
  return withoutTail(deflateRawSync(payload, { windowBits, finishFlush: constants.Z_SYNC_FLUSH }));
}

/**
 * A compression bomb: `mib` MiB of zeros deflated at level 9, about 1 KB per MiB (tail removed). Built
 * from two sync-flushed 1 MiB pieces: every piece after the first compresses to the same bytes.
 */
export async function zeroBomb(mib: number): Promise<Buffer> {
  const deflater = createDeflateRaw({ level: 9 });
  const zeros = Buffer.alloc(1024 * 1024);
  const first = await pushThrough(deflater, [zeros]);
  const next = await pushThrough(deflater, [zeros]);
  const third = await pushThrough(deflater, [zeros]);
  deflater.close();
  if (!next.equals(third))
    throw new Error('zlib no longer repeats itself on zeros: build the bomb another way');
  const pieces = [first];
  for (let i = 1; i < mib; i++) pieces.push(next);
  return withoutTail(Buffer.concat(pieces));
}
