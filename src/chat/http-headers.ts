/**
 * The headers every HTTP response of the chat server carries. The Content-Security-Policy allows
 * scripts, styles, images and connections from the server's own origin only: no inline script or
 * style, no other origin, no plugins, no framing. The page is written for it (no inline handlers, no
 * style attributes, nothing from a CDN); `connect-src 'self'` covers ws:// and wss:// to the same host
 * and port (CSP Level 3).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** File extensions served, with their Content-Type; files with any other extension are not served. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Cache-Control by Content-Type: the HTML is revalidated on every load (so a new version of the page
 * is seen at once), the files it loads are reused for a few minutes; all carry an ETag.
 */
export function cacheControl(contentType: string): string {
  return contentType.startsWith('text/html') ? 'no-cache' : 'public, max-age=300';
}
