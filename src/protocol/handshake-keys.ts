import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

/** Whether a Sec-WebSocket-Key is base64 that decodes to exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key) && Buffer.from(key, 'base64').length === 16;
}
