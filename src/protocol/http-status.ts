import { Buffer } from 'node:buffer';

/** Reason phrases for the statuses wskit answers a refused handshake with. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/**
 * A complete HTTP/1.1 error response that ends the connection: the status, `Connection: close`, a
 * plain-text body (the one-line reason) and any extra headers.
 */
export function buildErrorResponse(
  status: number,
  body: string,
  headers: Record<string, string | number> = {},
): string {
  const text = body.length > 0 ? body : reasonPhrase(status);
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(`${name}${value}`)) continue;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n${text}`;
}
