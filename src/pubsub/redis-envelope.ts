/**
 * The bytes a RedisBroker publishes on a channel: a 10-byte header, then the message as is.
 *
 *   byte 0       version: 1
 *   byte 1       flags: bit 0 set for a binary message (clear: text); the other bits are 0
 *   bytes 2-9    origin: the publishing broker's random id, so that a process skips its own
 *                messages (it delivered them locally already)
 *   bytes 10-    the message
 *
 * Binary rather than JSON: the message is carried without base64 or escaping, and a broker reads the
 * header without parsing anything.
 */

export const ENVELOPE_VERSION = 1;
export const ORIGIN_LENGTH = 8;
export const HEADER_LENGTH = 2 + ORIGIN_LENGTH;
const BINARY = 0x01;

export interface Envelope {
  origin: Buffer;
  isBinary: boolean;
  data: Buffer;
}

export function encodeEnvelope(origin: Buffer, data: Buffer, isBinary: boolean): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER_LENGTH + data.length);
  bytes[0] = ENVELOPE_VERSION;
  bytes[1] = isBinary ? BINARY : 0;
  origin.copy(bytes, 2, 0, ORIGIN_LENGTH);
  data.copy(bytes, HEADER_LENGTH);
  return bytes;
}

/** The envelope in `bytes` (views, no copy), or null when they are not one (another version, or not wskit's). */
export function decodeEnvelope(bytes: Buffer): Envelope | null {
  if (bytes.length < HEADER_LENGTH || bytes[0] !== ENVELOPE_VERSION || (bytes[1] & ~BINARY) !== 0) {
    return null;
  }
  return {
    origin: bytes.subarray(2, HEADER_LENGTH),
    isBinary: (bytes[1] & BINARY) !== 0,
    data: bytes.subarray(HEADER_LENGTH),
  };
}
