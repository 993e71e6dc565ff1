/** The TLS and HTTP/2 options of the commands: `--tls-cert`, `--tls-key`, `--http2` (docs/tls.md, docs/http2.md). */
import { readFileSync } from 'node:fs';
import type { FlagOption, ValueOption } from './args.js';
import { UsageError } from './args.js';
import { parseText } from './option-values.js';

export const tlsCertOption: ValueOption<string> = {
  kind: 'value',
  placeholder: 'FILE',
  parse: parseText,
  description: 'Serve wss:// with this certificate (PEM; with --tls-key). Default: ws://.',
};

export const tlsKeyOption: ValueOption<string> = {
  kind: 'value',
  placeholder: 'FILE',
  parse: parseText,
  description: "The certificate's private key (PEM; with --tls-cert).",
};

export const serverHttp2Option: FlagOption = {
  kind: 'flag',
  description:
    'Also accept WebSockets over HTTP/2 (RFC 8441): with --tls-cert, HTTP/2 and HTTP/1.1 on one port; without, cleartext HTTP/2 only (h2c).',
};

export const clientHttp2Option: FlagOption = {
  kind: 'flag',
  description:
    'Open the WebSocket as an HTTP/2 stream (RFC 8441): over TLS for wss:// (ALPN h2), cleartext for ws:// (h2c).',
};

/** The server options for `--tls-cert`, `--tls-key` and `--http2`; a UsageError for a file that cannot be read. */
export function serverTls(opts: { tlsCert?: string; tlsKey?: string; http2: boolean }): {
  tls?: { cert: Buffer; key: Buffer };
  http2?: boolean;
} {
  const { tlsCert, tlsKey, http2 } = opts;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both files, or neither');
  }
  const out: { tls?: { cert: Buffer; key: Buffer }; http2?: boolean } = {};
  if (tlsCert !== undefined && tlsKey !== undefined)
    out.tls = { cert: read(tlsCert, '--tls-cert'), key: read(tlsKey, '--tls-key') };
  if (http2) out.http2 = true;
  return out;
}

function read(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${option}: cannot read ${file}: ${(err as Error).message}`);
  }
}
