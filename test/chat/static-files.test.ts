// The page's file server: content types, caching, security headers, and no way out of its folder.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PUBLIC_DIR } from '../../src/chat/chat-server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/chat/http-headers.js';
import { resolvePath, StaticFiles } from '../../src/chat/static-files.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${path} within 5 s`)));
    req.end();
  });
}

async function serve(root: string): Promise<{ server: Server; port: number }> {
  const files = new StaticFiles(root);
  const server = createServer((req, res) => files.handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('StaticFiles', () => {
  let dir: string;
  let root: string;
  let server: Server;
  let port: number;

  before(async () => {
    // root/ is served; dir/ beside it holds a secret the requests below try to reach.
    dir = mkdtempSync(join(tmpdir(), 'wskit-static-'));
    root = join(dir, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(join(root, '.git'));
    writeFileSync(join(dir, 'secret.txt'), 'SECRET outside the root');
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'app.js'), 'console.log(1);');
    writeFileSync(join(root, 'style.css'), 'body{}');
    writeFileSync(join(root, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, 'data.json'), '{}');
    writeFileSync(join(root, 'site.webmanifest'), '{}');
    writeFileSync(join(root, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(root, 'notes.md'), '# not a served type');
    writeFileSync(join(root, '.env'), 'SECRET dotfile');
    writeFileSync(join(root, '.git', 'config'), 'SECRET in a dot folder');
    writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
    writeFileSync(join(root, 'sub', 'a b.txt'), 'spaced');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
    ({ server, port } = await serve(root));
  });

  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves each file with its content type', async () => {
    const expected: Record<string, string> = {
      '/': 'text/html; charset=utf-8',
      '/index.html': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/icon.svg': 'image/svg+xml',
      '/data.json': 'application/json; charset=utf-8',
      '/site.webmanifest': 'application/manifest+json; charset=utf-8',
      '/image.png': 'image/png',
      '/sub/': 'text/html; charset=utf-8',
      '/sub/a%20b.txt': 'text/plain; charset=utf-8',
    };
    for (const [path, type] of Object.entries(expected)) {
      const reply = await get(port, path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.headers['content-type'], type, path);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.equal((await get(port, '/sub/a%20b.txt')).body, 'spaced');
  });

  it('ignores the query string and the fragment', async () => {
    const reply = await get(port, '/?room=lobby&x=../../secret.txt');
    assert.equal(reply.status, 200);
    assert.match(reply.body, /<title>t<\/title>/);
  });

  it('answers 404 for what is not there, dotfiles, unknown types, symbolic links, folders', async () => {
    for (const path of [
      '/missing.html',
      '/.env',
      '/.git/config',
      '/notes.md',
      '/link.txt',
      '/sub',
      '//secret.txt',
      '/%252e%252e/secret.txt', // double encoding decodes once, to a name that does not exist
    ]) {
      const reply = await get(port, path);
      assert.equal(reply.status, 404, path);
      assert.doesNotMatch(reply.body, /SECRET/, path);
      assert.equal(reply.headers['content-security-policy'], CONTENT_SECURITY_POLICY, path);
    }
  });

  it('refuses paths that climb out of the folder, encoded or not, with 400', async () => {
    for (const path of [
      '/../secret.txt',
      '/../package.json',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
      '/sub\\..\\..\\secret.txt',
      '/./index.html',
      '/..',
      '/%00',
      '/index.html%00.png',
      '/%',
      '/%e0%a4%a',
      'http://127.0.0.1/index.html',
      '*',
    ]) {
      const reply = await get(port, path);
      assert.equal(reply.status, 400, path);
      assert.doesNotMatch(reply.body, /SECRET|"name"/, path);
    }
  });

  it('answers GET and HEAD only (405 with Allow)', async () => {
    const post = await get(port, '/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await get(port, '/app.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String('console.log(1);'.length));
    assert.equal(head.body, '');
  });

  it('sets cache headers: HTML revalidated every time, assets for a few minutes, ETag and 304', async () => {
    const html = await get(port, '/');
    assert.equal(html.headers['cache-control'], 'no-cache');
    assert.ok(html.headers['last-modified']);
    const js = await get(port, '/app.js');
    assert.equal(js.headers['cache-control'], 'public, max-age=300');
    const etag = js.headers.etag;
    assert.match(etag ?? '', /^"[\w-]{22}"$/);
    const again = await get(port, '/app.js', { headers: { 'If-None-Match': `"other", W/${etag}` } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, etag);
    assert.equal((await get(port, '/app.js', { headers: { 'If-None-Match': '"other"' } })).status, 200);
  });

  it('refuses to start without an index.html', () => {
    const empty = mkdtempSync(join(tmpdir(), 'wskit-static-empty-'));
    try {
      assert.throws(() => new StaticFiles(empty), /index\.html is missing/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the chat page as served', () => {
  let server: Server;
  let port: number;

  before(async () => {
    ({ server, port } = await serve(DEFAULT_PUBLIC_DIR));
  });

  after(() => server?.close());

  it('serves the page, its script, style and icon, with the security headers', async () => {
    const page = await get(port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    // The page loads only its own files: no inline script or style, nothing from elsewhere.
    assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]|\sstyle=|\son[a-z]+=|https?:\/\//);
    for (const [path, type] of [
      ['/chat.js', 'text/javascript; charset=utf-8'],
      ['/chat.css', 'text/css; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
    ]) {
      const reply = await get(port, path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.headers['content-type'], type, path);
      assert.ok(page.body.includes(`"${path}"`), `the page refers to ${path}`);
    }
    const script = (await get(port, '/chat.js')).body;
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});

describe('resolvePath', () => {
  it('maps request targets to file paths', () => {
    assert.equal(resolvePath('/'), '/index.html');
    assert.equal(resolvePath('/a/'), '/a/index.html');
    assert.equal(resolvePath('/chat.js?v=2#x'), '/chat.js');
    assert.equal(resolvePath('/caf%C3%A9.txt'), '/café.txt');
    assert.equal(resolvePath('/..foo'), '/..foo'); // a name starting with dots is not a climb
  });

  it('returns null for anything that could climb or is malformed', () => {
    for (const target of ['', 'a', '/..', '/a/../b', '/%2e%2E/b', '/a%2f..%2fb', '/a\\b', '/%0a', '/%zz']) {
      assert.equal(resolvePath(target), null, target);
    }
  });
});
