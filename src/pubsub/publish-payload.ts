import { Buffer } from 'node:buffer';
import { isBlob, type SendData, toPayload } from '../node/connection/send-data.js';
import { createError } from '../protocol/errors.js';

/** A published message as bytes, and whether it is binary (default: anything but a string). */
export function normalize(
  data: SendData,
  options: { binary?: boolean },
): { payload: Buffer; isBinary: boolean } {
  if (isBlob(data)) {
    throw createError('WS_ERR_INVALID_ARGUMENT', 'Blobs cannot be published: read them into a Buffer first');
  }
  const value = toPayload(data as Exclude<SendData, Blob>);
  const isBinary = options.binary ?? typeof value !== 'string';
  return { payload: typeof value === 'string' ? Buffer.from(value) : value, isBinary };
}
