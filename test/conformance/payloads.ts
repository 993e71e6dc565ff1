// Deterministic test payloads of exact sizes.

const PATTERN = Buffer.from('Hello-µ@ßöäüàá-UTF-8!! κόσμε €𝄞 ', 'utf8');

/** `n` bytes of valid UTF-8 mixing 1- to 4-byte characters (whole patterns, padded with ASCII). */
export function textOf(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  const whole = Math.floor(n / PATTERN.length);
  for (let i = 0; i < whole; i++) PATTERN.copy(out, i * PATTERN.length);
  out.fill(0x2a, whole * PATTERN.length); // '*'
  return out;
}

/** `n` bytes of ASCII text. */
export function asciiOf(n: number): Buffer {
  const pattern = 'BAsd7&jh23';
  return Buffer.from(pattern.repeat(Math.ceil(n / pattern.length)).slice(0, n), 'latin1');
}

/** `n` pseudo-random bytes (every value 0-255 occurs), the same for the same `seed`. */
export function binaryOf(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
