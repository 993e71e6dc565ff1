/**
 * How a client turns the values it publishes into message payloads and back. A payload is text (a
 * string) or bytes (a Uint8Array, carried as base64 with `"binary": true`). The default, jsonCodec,
 * publishes any JSON value as text.
 */
export interface Codec<T> {
  encode(value: T): string | Uint8Array;
  /** `data` is a string for a text message, a Uint8Array for a binary one. May throw: the message is skipped. */
  decode(data: string | Uint8Array): T;
}

/** JSON text: `publish(topic, { text: 'hi' })` sends `'{"text":"hi"}'`. Binary messages are refused. */
export const jsonCodec: Codec<unknown> = {
  encode: (value) => {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`${typeof value} is not a JSON value`);
    return text;
  },
  decode: (data) => {
    if (typeof data !== 'string') throw new TypeError('a binary message is not JSON text');
    return JSON.parse(data) as unknown;
  },
};

/** Payloads as they are: strings for text messages, Uint8Arrays for binary ones. */
export const rawCodec: Codec<string | Uint8Array> = {
  encode: (value) => value,
  decode: (data) => data,
};

const CHUNK = 0x8000;

/** Base64 of bytes, with the btoa() browsers and Node (≥ 16) both have. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** The bytes of base64 text; throws on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
