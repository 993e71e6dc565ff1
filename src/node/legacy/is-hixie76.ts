import { Hixie76Protocol } from '../../protocol/hixie76-protocol.js';

/**
 * Whether a server's connection speaks hixie-76 (legacy.hixie76): it takes text messages only, and
 * has no ping, pong, close code or permessage-deflate.
 */
export function isHixie76(ws: object): boolean {
  return (ws as { _protocol?: unknown })._protocol instanceof Hixie76Protocol;
}
