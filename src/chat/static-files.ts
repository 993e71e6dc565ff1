/**
 * Serves the page's files. They are read into memory once, when the server starts, from a folder
 * (dotfiles, symbolic links and files of an unknown type left out): a request can only ever get one
 * of those files, whatever its path says. Paths that try to leave the folder (`..`, encoded or not,
 * backslashes, NUL) are refused with 400 before the lookup; anything else not found gets 404.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { CONTENT_TYPES, cacheControl, SECURITY_HEADERS } from './http-headers.js';

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: string;
}

/** Largest file loaded; a page's assets are small, and everything is held in memory. */
const MAX_FILE_SIZE = 4 * 1024 * 1024;

export class StaticFiles {
  /** By URL path: `/index.html`, `/chat.js`. */
  private readonly files = new Map<string, StaticFile>();

  /**
   * Loads the files under `root` (throws if it is not a readable folder), served under `prefix`
   * (`/client`: `root/index.js` is `/client/index.js`). With `index` (the default), `index.html` must
   * be there.
   */
  constructor(root: string, options: { prefix?: string; index?: boolean } = {}) {
    this.load(root, options.prefix ?? '');
    if (options.index !== false && !this.files.has('/index.html')) {
      throw new Error(`${join(root, 'index.html')} is missing: the chat page cannot be served`);
    }
  }

  /** The URL paths served, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Answers an HTTP request: GET or HEAD of a file, 304 when the ETag matches, or an error status. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const path = resolvePath(req.url ?? '');
    if (path === null) {
      sendError(res, 400, 'Bad Request');
      return;
    }
    const file = this.files.get(path);
    if (file === undefined) {
      sendError(res, 404, 'Not Found');
      return;
    }
    const headers: OutgoingHttpHeaders = {
      ...SECURITY_HEADERS,
      'Content-Type': file.contentType,
      'Cache-Control': cacheControl(file.contentType),
      ETag: file.etag,
      'Last-Modified': file.lastModified,
    };
    if (matchesETag(req.headers['if-none-match'], file.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Length'] = file.body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  private load(dir: string, prefix: string): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const urlPath = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        this.load(path, urlPath);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(entry.name).toLowerCase()];
      if (!entry.isFile() || contentType === undefined) continue;
      const stat = statSync(path);
      if (stat.size > MAX_FILE_SIZE) continue;
      const body = readFileSync(path);
      this.files.set(urlPath, {
        body,
        contentType,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        lastModified: stat.mtime.toUTCString(),
      });
    }
  }
}

/**
 * The file path a request target asks for (`/` is `/index.html`), or null when it is malformed or
 * tries to climb out of the folder: not starting with `/`, bad percent-encoding, a `.` or `..`
 * segment (before or after decoding), a backslash, or a control character.
 */
export function resolvePath(target: string): string | null {
  if (!target.startsWith('/')) return null;
  const end = target.search(/[?#]/);
  const raw = end === -1 ? target : target.slice(0, end);
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (path.includes('\\') || /\p{Cc}/u.test(path)) return null;
  const segments = path.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return null;
  return path.endsWith('/') ? `${path}index.html` : path;
}

function matchesETag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/** A plain-text error response, with the security headers. */
export function sendError(
  res: ServerResponse,
  status: number,
  text: string,
  extra: OutgoingHttpHeaders = {},
): void {
  const body = `${status} ${text}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
