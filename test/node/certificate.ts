// A self-signed certificate for localhost and 127.0.0.1 (and wskit-test.invalid), made at test time
// by the openssl CLI, once per test process: the one certificate of the TLS, HTTP/2 and proxy tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Made by the first call of the process; the same pair afterwards. */
export interface Certificate {
  cert: Buffer;
  key: Buffer;
}

const made: { value: Certificate | null } = { value: null };

export function selfSignedCertificate(): Certificate {
  if (made.value !== null) return made.value;
  const dir = mkdtempSync(join(tmpdir(), 'wskit-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:wskit-test.invalid,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    made.value = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    return made.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
