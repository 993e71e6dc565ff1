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
import { Buffer } from 'node:buffer';

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

/**
 * Durable topics (version 2): what the Lua scripts PUBLISH. The broker gives the script the head
 * (15 bytes); the script appends the rest, so that the offset it assigns travels with the message.
 *
 *   byte 0       version: 2
 *   byte 1       flags: bit 0 binary, bit 1 not to be compressed
 *   byte 2       kind: 0 a message, 1 a presence join, 2 a presence leave
 *   bytes 3-10   origin: the publishing broker's random id
 *   bytes 11-14  tag (big-endian): which publish of that broker this is, for its `except` (0: none)
 *   then         a message: "<offset> <epoch>\n" in ASCII, then the message as is;
 *                a join or leave: the member as JSON ({ client, info })
 *
 * Unlike version 1, a broker does not skip its own messages: every process, the publishing one too,
 * delivers them from Redis, in the order Redis published them, which is the offsets' order.
 */
export const SEQUENCED_VERSION = 2;
export const SEQUENCED_HEAD_LENGTH = 3 + ORIGIN_LENGTH + 4;
export const NO_COMPRESS = 0x02;

export type SequencedKind = 0 | 1 | 2;
export const KIND_MESSAGE = 0;
export const KIND_JOIN = 1;
export const KIND_LEAVE = 2;

export function sequencedHead(origin: Buffer, tag: number, flags: number, kind: SequencedKind): Buffer {
  const head = Buffer.alloc(SEQUENCED_HEAD_LENGTH);
  head[0] = SEQUENCED_VERSION;
  head[1] = flags;
  head[2] = kind;
  origin.copy(head, 3, 0, ORIGIN_LENGTH);
  head.writeUInt32BE(tag >>> 0, 3 + ORIGIN_LENGTH);
  return head;
}

export interface SequencedEnvelope {
  origin: Buffer;
  tag: number;
  isBinary: boolean;
  noCompress: boolean;
  kind: SequencedKind;
  /** For a message. */
  offset: number;
  epoch: string;
  /** The message, or the member's JSON. */
  data: Buffer;
}

/** The version-2 envelope in `bytes`, or null when they are not one. */
export function decodeSequenced(bytes: Buffer): SequencedEnvelope | null {
  if (bytes.length < SEQUENCED_HEAD_LENGTH || bytes[0] !== SEQUENCED_VERSION || bytes[2] > 2) return null;
  const kind = bytes[2] as SequencedKind;
  const common = {
    origin: bytes.subarray(3, 3 + ORIGIN_LENGTH),
    tag: bytes.readUInt32BE(3 + ORIGIN_LENGTH),
    isBinary: (bytes[1] & BINARY) !== 0,
    noCompress: (bytes[1] & NO_COMPRESS) !== 0,
    kind,
  };
  if (kind !== KIND_MESSAGE) {
    return { ...common, offset: 0, epoch: '', data: bytes.subarray(SEQUENCED_HEAD_LENGTH) };
  }
  const end = bytes.indexOf(0x0a, SEQUENCED_HEAD_LENGTH);
  if (end === -1) return null;
  const line = bytes.toString('latin1', SEQUENCED_HEAD_LENGTH, end);
  const space = line.indexOf(' ');
  const offset = Number(line.slice(0, space));
  if (space === -1 || !Number.isSafeInteger(offset)) return null;
  return { ...common, offset, epoch: line.slice(space + 1), data: bytes.subarray(end + 1) };
}
