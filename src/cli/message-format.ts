/** How the client shows messages: text as is, binary as a size and a hex preview. */

/** Bytes shown in the hex preview of a binary message. */
export const HEX_PREVIEW_BYTES = 32;

/** `hello` for text; `<binary 3 bytes: 01 02 ff>` for binary (`...` after the first 32 bytes). */
export function formatMessage(data: Buffer, isBinary: boolean): string {
  if (!isBinary) return data.toString('utf8');
  const size = `${data.length} ${data.length === 1 ? 'byte' : 'bytes'}`;
  if (data.length === 0) return `<binary ${size}>`;
  const preview = data
    .subarray(0, HEX_PREVIEW_BYTES)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
  return `<binary ${size}: ${preview}${data.length > HEX_PREVIEW_BYTES ? ' ...' : ''}>`;
}

/**
 * The payload of `/binary ARG`: hex digit pairs (spaces between them allowed, as in `01 ff`) are those
 * bytes; anything else is sent as its UTF-8 bytes.
 */
export function parseBinaryArgument(arg: string): Buffer {
  const compact = arg.replace(/\s+/g, '');
  if (compact !== '' && /^(?:[0-9a-f]{2})+$/i.test(compact)) return Buffer.from(compact, 'hex');
  return Buffer.from(arg, 'utf8');
}
