/**
 * The rooms as durable topics: `chat/ROOM` holds a room's messages and notices with their offsets, the
 * last `history` of them kept (24 h at most). Pages read them over wskit.topics.v1 with wskit/client,
 * which the server serves at /client/; they may only subscribe, and only to rooms: what is said goes
 * through the chat protocol's checks, and the server publishes it.
 */
import { fileURLToPath } from 'node:url';
import type { DurableOptions } from '../index.js';
import type { LogLevel } from './chat-server.js';
import { type ChatLimits, checkRoom } from './protocol.js';
import { StaticFiles } from './static-files.js';

/**
 * wskit/client as ES modules for the page (served at /client/): the build of src/client/ in
 * dist/client/, two folders up from src/chat/ and dist/chat/ (`npm run build` makes it).
 */
export const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../dist/client/', import.meta.url));
/** Where the page loads wskit/client from. */
export const CLIENT_PATH = '/client/';
/** Messages (and notices) of a room kept for newcomers and for pages that reconnect, by default. */
export const DEFAULT_HISTORY = 100;
/** How long a room's messages are kept, at most. */
export const HISTORY_MAX_AGE = 24 * 3600 * 1000;
/** Topics one page's wskit.topics.v1 connection may read at once (it reads one room). */
const MAX_SUBSCRIPTIONS = 4;

export function roomTopic(room: string): string {
  return `chat/${room}`;
}

/** Whether `topic` is a room's topic: `chat/` and a valid room name. */
export function isRoomTopic(topic: string, limits: ChatLimits): boolean {
  if (!topic.startsWith('chat/')) return false;
  const room = topic.slice(5);
  try {
    return checkRoom(room, limits) === room;
  } catch {
    return false;
  }
}

/** The chat server's `durable` option: rooms are durable (other topics are not), pages only read them. */
export function roomTopicsOptions(limits: ChatLimits, history: number): DurableOptions {
  return {
    history: (topic) => (isRoomTopic(topic, limits) ? { maxCount: history, maxAge: HISTORY_MAX_AGE } : null),
    authorize: (_ws, _req, action, topic) => action === 'subscribe' && isRoomTopic(topic, limits),
    maxSubscriptions: MAX_SUBSCRIPTIONS,
  };
}

/** wskit/client's files, or null (logged) when the folder is missing: the page then cannot read rooms. */
export function loadClientFiles(
  dir: string,
  log: (line: string, level: LogLevel) => void,
): StaticFiles | null {
  try {
    return new StaticFiles(dir, { prefix: CLIENT_PATH.slice(0, -1), index: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    log(`wskit/client is missing (${reason}): run "npm run build"; the page cannot show messages`, 'error');
    return null;
  }
}
