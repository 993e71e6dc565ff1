import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '../../protocol/http-request-head.js';

/**
 * The request of an opening handshake that wskit read itself (a server created with `port`): a real
 * http.IncomingMessage (`req instanceof http.IncomingMessage`, as ws's requests are), filled from the
 * request head wskit parsed — method, url, headers, rawHeaders, httpVersion, socket. Its body is
 * empty: an upgrade request has none, and the bytes after the head belong to the WebSocket.
 * Constructing it costs a Readable's setup once per handshake, nothing per message.
 */
export class UpgradeRequest extends IncomingMessage {
  constructor(head: RequestHead, socket: Socket) {
    super(socket);
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.httpVersionMajor = head.httpVersionMajor;
    this.httpVersionMinor = head.httpVersionMinor;
    this.headers = head.headers as IncomingMessage['headers'];
    this.rawHeaders = head.rawHeaders;
    this.complete = true;
  }
}
