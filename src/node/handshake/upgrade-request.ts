import type { Socket } from 'node:net';
import type { RequestHead } from '../../protocol/http-request-head.js';

/**
 * The request of an opening handshake that wskit read itself (a server created with `port`): the
 * fields of Node's IncomingMessage that handshake code uses — method, url, headers, rawHeaders,
 * httpVersion, socket — without the stream machinery, which an upgrade request never needs. Pass your
 * own http.Server (`server` option) to get real IncomingMessage objects.
 */
export class UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly headers: Record<string, string | string[]>;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  readonly complete = true;
  readonly aborted = false;

  constructor(head: RequestHead, socket: Socket) {
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.httpVersionMajor = head.httpVersionMajor;
    this.httpVersionMinor = head.httpVersionMinor;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
  }

  /** The socket (IncomingMessage's deprecated alias). */
  get connection(): Socket {
    return this.socket;
  }
}
