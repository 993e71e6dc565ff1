import type { ServerHttp2Stream } from 'node:http2';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2), which Node would throw on: dropped from a refusal. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
]);

/**
 * Answers a refused WebSocket-over-HTTP/2 request with an HTTP error and a one-line reason, then ends
 * the stream (the session and its other streams go on).
 */
export function refuseStream(
  stream: ServerHttp2Stream,
  status: number,
  reason: string,
  headers?: Record<string, string | number>,
): void {
  stream.on('error', () => {});
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close();
    return;
  }
  const response: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!CONNECTION_SPECIFIC.has(lower) && !lower.startsWith(':')) response[lower] = value;
  }
  response[':status'] = status;
  response['content-type'] = 'text/plain; charset=utf-8';
  try {
    stream.respond(response);
    stream.end(reason);
  } catch {
    stream.destroy();
  }
}
