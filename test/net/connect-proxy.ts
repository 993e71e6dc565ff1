// A small HTTP CONNECT proxy for the tests, on 127.0.0.1: it checks Proxy-Authorization when asked
// to, can refuse every tunnel with a status, and records what it was asked for.
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ProxyOptions {
  /** 'user:password' the proxy requires (407 without it or with others). */
  auth?: string;
  /** Refuse every CONNECT with this status. */
  refuse?: number;
  /** Never answer a CONNECT (for the deadline and abort tests). */
  silent?: boolean;
  /** Serve the proxy over TLS (an https:// proxy). */
  tls?: { cert: Buffer; key: Buffer };
  /** Host names the proxy resolves itself (to reach a loopback server under another name). */
  hosts?: Record<string, string>;
}

export interface TestProxy {
  server: Server;
  url: string;
  port: number;
  /** The authorities (host:port) asked for, in order. */
  requests: string[];
  /** The Proxy-Authorization headers received (undefined when absent). */
  authorizations: (string | undefined)[];
  /** Resolves on the next CONNECT request received. */
  nextRequest(): Promise<IncomingMessage>;
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const server = options.tls ? createHttpsServer(options.tls) : createHttpServer();
  const sockets = new Set<Duplex>();
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client);
    client.on('error', () => {});
    // The proxy's sockets are half-open after CONNECT: the client's FIN closes them.
    client.on('end', () => client.destroy());
    requests.push(req.url ?? '');
    authorizations.push(req.headers['proxy-authorization']);
    if (options.silent) return;
    if (options.refuse !== undefined) {
      client.end(`HTTP/1.1 ${options.refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (options.auth !== undefined) {
      const expected = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      if (req.headers['proxy-authorization'] !== expected) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
    }
    const url = new URL(`http://${req.url}`);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const upstream = connect(Number(url.port), options.hosts?.[hostname] ?? hostname);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    authorizations,
    nextRequest: async () => {
      const [req] = await once(server, 'connect', { signal: AbortSignal.timeout(5_000) });
      return req as IncomingMessage;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
