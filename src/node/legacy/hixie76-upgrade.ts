import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_PAYLOAD } from '../../protocol/constants.js';
import {
  type AcceptedHixie76,
  checkHixie76Request,
  HIXIE76_KEY3_LENGTH,
  hixie76Location,
  hixie76Response,
} from '../../protocol/hixie76-handshake.js';
import { Hixie76Protocol } from '../../protocol/hixie76-protocol.js';
import type { Protocol, ProtocolHandler, ProtocolOptions } from '../../protocol/protocol.js';
import { abortHandshake } from '../handshake/abort-handshake.js';
import type { AcceptCallback, UpgradeHandler } from '../handshake/upgrade-handler.js';
import { readThrough, stopClosingOnError, stopReadingThrough } from '../transport/transport.js';

/** Makes a hixie-76 connection's Protocol (Negotiated.framing). */
function hixie76Framing(handler: ProtocolHandler, options: ProtocolOptions): Protocol {
  return new Hixie76Protocol(handler, {
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    skipUTF8Validation: options.receiveLimits?.skipUTF8Validation === true,
  });
}

/**
 * The server side of a hixie-76 opening handshake (legacy.hixie76): the request checked, the path and
 * the server's limits as for RFC 6455, the 8 bytes after the head read (they may come in a later
 * packet, under the same handshake deadline), verifyClient and handleProtocols asked as usual, then
 * the 101 with the MD5 answer, and a connection whose Protocol speaks hixie-76's framing.
 */
export function handleHixie76<C>(
  handler: UpgradeHandler<C>,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  cb: AcceptCallback<C>,
): void {
  const check = checkHixie76Request(req);
  if (!check.ok) {
    handler.refuse(req, socket, check.status, check.reason);
    return;
  }
  if (!handler.host.shouldHandle(req)) {
    // Another path: not a client error (no 'wsClientError'), as with version 13.
    abortHandshake(socket, 400, 'Bad Request');
    return;
  }
  const refusal = handler.host.refusal();
  if (refusal !== null) {
    abortHandshake(socket, 503, refusal);
    return;
  }
  handler.deadlines.add(socket);
  readKey3(socket, head, (key3, rest) => {
    handler.verify(req, socket, check.origin, () => complete(handler, check, key3, req, socket, rest, cb));
  });
}

function complete<C>(
  handler: UpgradeHandler<C>,
  check: AcceptedHixie76,
  key3: Buffer,
  req: IncomingMessage,
  socket: Duplex,
  rest: Buffer,
  cb: AcceptCallback<C>,
): void {
  if (!handler.ready(socket)) return;
  const protocol = handler.chooseProtocol(check.protocols, req, socket);
  if (protocol === null) return;
  const secure = Boolean((req.socket as { encrypted?: boolean } | undefined)?.encrypted);
  socket.write(
    hixie76Response({
      key1: check.key1,
      key2: check.key2,
      key3,
      origin: check.origin,
      location: hixie76Location(secure, check.host, req.url),
      protocol,
    }),
  );
  stopClosingOnError(socket);
  handler.host.accept(socket, rest, { protocol, extensions: '', framing: hixie76Framing }, req, cb);
}

/**
 * Waits for the 8 bytes after the request head (an http.Server's `head`, or wskit's listener's rest,
 * may hold fewer), then calls `then` with them and whatever came after (the first frames).
 */
function readKey3(socket: Duplex, head: Buffer, then: (key3: Buffer, rest: Buffer) => void): void {
  if (head.length >= HIXIE76_KEY3_LENGTH) {
    then(head.subarray(0, HIXIE76_KEY3_LENGTH), head.subarray(HIXIE76_KEY3_LENGTH));
    return;
  }
  let got = head;
  const sink = {
    data(chunk: Buffer) {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      if (got.length < HIXIE76_KEY3_LENGTH) return;
      stopReadingThrough(socket, sink);
      then(got.subarray(0, HIXIE76_KEY3_LENGTH), got.subarray(HIXIE76_KEY3_LENGTH));
    },
    end() {
      socket.destroy();
    },
    close() {},
    error() {
      socket.destroy();
    },
  };
  readThrough(socket, sink as unknown as Parameters<typeof readThrough>[1]);
  socket.resume();
}
