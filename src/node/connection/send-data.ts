import { Blob, Buffer } from 'node:buffer';
import { argumentError } from '../../protocol/errors.js';

/** What send() accepts, as in ws and the browser. */
export type SendData =
  | string
  | Buffer
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly Buffer[]
  | number;

/**
 * Converts send() data to a string (text) or a Buffer viewing the caller's memory (no copy). Blobs
 * are not handled here: they are read asynchronously by the caller. Throws WS_ERR_INVALID_ARGUMENT.
 */
export function toPayload(data: Exclude<SendData, Blob>): Buffer | string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'number') return String(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (
    data instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)
  ) {
    return Buffer.from(data);
  }
  if (Array.isArray(data) && data.every((d) => Buffer.isBuffer(d))) return Buffer.concat(data);
  throw argumentError(
    `Cannot send ${describe(data)}: pass a string, Buffer, ArrayBuffer, typed array, DataView or Blob`,
  );
}

export function isBlob(data: unknown): data is Blob {
  return data instanceof Blob;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a value of type ${typeof value}`;
}

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** A received binary message in the representation binaryType asks for. */
export function toBinaryType(data: Buffer, binaryType: BinaryType): Buffer | ArrayBuffer | Buffer[] | Blob {
  switch (binaryType) {
    case 'nodebuffer':
      return data;
    case 'arraybuffer':
      return data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        data.buffer instanceof ArrayBuffer
        ? data.buffer
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    case 'fragments':
      return [data];
    case 'blob':
      return new Blob([data]);
  }
}
