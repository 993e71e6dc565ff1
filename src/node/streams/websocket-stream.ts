import { ReadyState } from '../../protocol/constants.js';
import { WebSocketError } from '../../protocol/errors.js';
import { WebSocket, type WebSocketOptions } from '../connection/websocket.js';
import { closeRequest, type WebSocketCloseInfo } from './close-info.js';
import {
  abnormalClosure,
  readableHighWaterMark,
  toWebStreams,
  type WebSocketStreams,
  type WebStreamsOptions,
} from './web-streams.js';

/** new WebSocketStream(url, options): the WHATWG options, and any of a wskit client's. */
export interface WebSocketStreamOptions extends WebSocketOptions, WebStreamsOptions {
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** Aborts the opening handshake: opened and closed reject with the signal's reason. Ignored once open. */
  signal?: AbortSignal;
}

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  readable: WebSocketStreams['readable'];
  writable: WebSocketStreams['writable'];
  /** The negotiated extensions ('permessage-deflate' or ''). */
  extensions: string;
  /** The subprotocol the server chose, or ''. */
  protocol: string;
}

/**
 * The WHATWG WebSocketStream, as in Chromium: a client connection whose messages are a
 * ReadableStream and whose sending is a WritableStream, with backpressure both ways (see
 * toWebStreams). Errors are wskit's WebSocketError, with the WHATWG WebSocketError's closeCode and
 * reason. See docs/websocketstream.md.
 */
export class WebSocketStream {
  /** The URL connected to (http: and https: as ws: and wss:). */
  readonly url: string;
  /** Resolves once the connection is open; rejects if it never opens. */
  readonly opened: Promise<WebSocketOpenInfo>;
  /** Resolves with { closeCode, reason } after a closing handshake; rejects otherwise. */
  readonly closed: Promise<Required<WebSocketCloseInfo>>;
  private readonly ws: WebSocket;

  /** Throws WS_ERR_INVALID_URL or WS_ERR_INVALID_ARGUMENT for a bad URL, subprotocol or option. */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    const { protocols, readableHighWaterMark: _, ...clientOptions } = options;
    const highWaterMark = readableHighWaterMark(options);
    const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
    const signal = options.signal;
    let resolveOpened!: (info: WebSocketOpenInfo) => void;
    let rejectOpened!: (err: unknown) => void;
    let resolveClosed!: (info: Required<WebSocketCloseInfo>) => void;
    let rejectClosed!: (err: unknown) => void;
    this.opened = new Promise((resolve, reject) => {
      resolveOpened = resolve;
      rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      resolveClosed = resolve;
      rejectClosed = reject;
    });
    // Handled here, as the WHATWG algorithm marks them: a caller that awaits only one of them gets
    // no unhandled rejection from the other.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
    const ws = new WebSocket(url, list, clientOptions);
    this.ws = ws;
    this.url = ws.url;
    let failure: Error | null = null;
    const onError = (err: Error) => {
      failure = err;
    };
    const onClose = (code: number) => {
      // The signal's reason, as the WHATWG algorithm says; else the handshake's own error (a
      // WebSocketError such as WS_ERR_HANDSHAKE_REJECTED with its status), or one wrapping it.
      const error = signal?.aborted
        ? signal.reason
        : failure instanceof WebSocketError
          ? failure
          : abnormalClosure(code, failure);
      rejectOpened(error);
      rejectClosed(error);
    };
    ws.on('error', onError);
    ws.once('close', onClose);
    ws.once('open', () => {
      ws.removeListener('error', onError);
      ws.removeListener('close', onClose);
      let streams: WebSocketStreams;
      try {
        streams = toWebStreams(ws, { readableHighWaterMark: highWaterMark });
      } catch (err) {
        ws.terminate();
        rejectOpened(err);
        rejectClosed(err);
        return;
      }
      streams.closed.then(resolveClosed, rejectClosed);
      resolveOpened({
        readable: streams.readable,
        writable: streams.writable,
        extensions: ws.extensions,
        protocol: ws.protocol,
      });
    });
  }

  /**
   * Closes the connection with { closeCode, reason } (a reason alone means 1000; neither, an empty
   * Close frame: the peer sees 1005). While connecting, it aborts the handshake. Throws
   * WS_ERR_INVALID_ARGUMENT for a code other than 1000 or 3000-4999, or a reason over 123 bytes.
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    const request = closeRequest(closeInfo);
    const ws = this.ws;
    if (ws.readyState === ReadyState.CLOSED || ws.readyState === ReadyState.CLOSING) return;
    if (ws.readyState === ReadyState.CONNECTING) {
      ws.close();
      return;
    }
    if (request.code === undefined) ws.close();
    else ws.close(request.code, request.reason);
  }
}
