/**
 * The messages of wskit.topics.v1 (docs/topics-protocol.md), as types, and parseServerMessage(): the
 * only way text from the server becomes a ServerMessage. It checks the type and every field the
 * client relies on, and ignores the fields it does not know (additions of later servers).
 */

/** The subprotocol the client asks for in its handshake. */
export const SUBPROTOCOL = 'wskit.topics.v1';

/** Longest topic, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 1024;
/** Longest publish key. */
export const MAX_KEY_LENGTH = 64;

/** A position in a topic: the offset of the last message processed, in one epoch of its history. */
export interface Position {
  offset: number;
  epoch: string;
}

/** A member of a topic's presence: `client` is the server's id of the connection, `info` what it joined with. */
export interface Member<I = unknown> {
  client: string;
  info: I;
}

export interface Gap {
  reason: 'retention' | 'epoch' | 'unavailable' | (string & {});
  from?: number;
  to?: number;
}

export type ClientMessage =
  | {
      type: 'subscribe';
      id: number;
      topic: string;
      since?: Position;
      history?: number;
      presence?: { info: unknown };
    }
  | { type: 'unsubscribe'; id: number; topic: string }
  | { type: 'publish'; id: number; topic: string; data: string; binary?: true; key: string }
  | { type: 'presence'; id: number; topic: string }
  | { type: 'ping'; id?: number };

export type ServerMessage =
  | {
      type: 'subscribed';
      id?: number;
      topic: string;
      epoch: string;
      offset: number;
      recovered: boolean;
      gap?: Gap;
    }
  | { type: 'unsubscribed'; id?: number; topic: string }
  | { type: 'message'; topic: string; offset: number; epoch: string; data: string; binary: boolean }
  | { type: 'ack'; id?: number; topic: string; offset: number; epoch: string }
  | { type: 'presence'; id?: number; topic: string; members: Member[] }
  | { type: 'join' | 'leave'; topic: string; member: Member }
  | { type: 'pong'; id?: number }
  | { type: 'error'; id?: number; code: string; message: string };

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/** A non-negative integer below 2^53, as offsets and ids are. */
function isPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTopic(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOPIC_LENGTH;
}

function optionalId(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  return isPosition(value) ? value : null;
}

function parseMember(value: unknown): Member | null {
  if (typeof value !== 'object' || value === null) return null;
  const { client, info } = value as Record<string, unknown>;
  return typeof client === 'string' ? { client, info } : null;
}

function parseGap(value: unknown): Gap | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return null;
  const { reason, from, to } = value as Record<string, unknown>;
  if (typeof reason !== 'string') return null;
  const gap: Gap = { reason };
  if (isPosition(from)) gap.from = from;
  if (isPosition(to)) gap.to = to;
  return gap;
}

/**
 * The message in `text`, or null when it is not a wskit.topics.v1 server message the client can use
 * (not JSON, not an object, an unknown type, a field missing or of the wrong type).
 */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  const id = optionalId(m.id);
  if (id === null) return null;
  const withId = <T extends object>(message: T): T => (id === undefined ? message : { ...message, id });
  switch (m.type) {
    case 'subscribed': {
      const gap = parseGap(m.gap);
      if (!isTopic(m.topic) || typeof m.epoch !== 'string' || !isPosition(m.offset)) return null;
      if (typeof m.recovered !== 'boolean' || gap === null) return null;
      const message = {
        type: 'subscribed' as const,
        topic: m.topic,
        epoch: m.epoch,
        offset: m.offset,
        recovered: m.recovered,
      };
      return withId(gap === undefined ? message : { ...message, gap });
    }
    case 'unsubscribed':
      return isTopic(m.topic) ? withId({ type: 'unsubscribed' as const, topic: m.topic }) : null;
    case 'message':
      if (!isTopic(m.topic) || !isPosition(m.offset) || typeof m.epoch !== 'string') return null;
      if (typeof m.data !== 'string') return null;
      return {
        type: 'message',
        topic: m.topic,
        offset: m.offset,
        epoch: m.epoch,
        data: m.data,
        binary: m.binary === true,
      };
    case 'ack':
      if (!isTopic(m.topic) || !isPosition(m.offset) || typeof m.epoch !== 'string') return null;
      return withId({ type: 'ack' as const, topic: m.topic, offset: m.offset, epoch: m.epoch });
    case 'presence': {
      if (!isTopic(m.topic) || !Array.isArray(m.members)) return null;
      const members = m.members.map(parseMember);
      if (members.includes(null)) return null;
      return withId({ type: 'presence' as const, topic: m.topic, members: members as Member[] });
    }
    case 'join':
    case 'leave': {
      const member = parseMember(m.member);
      if (!isTopic(m.topic) || member === null) return null;
      return { type: m.type, topic: m.topic, member };
    }
    case 'pong':
      return withId({ type: 'pong' as const });
    case 'error':
      if (typeof m.code !== 'string') return null;
      return withId({
        type: 'error' as const,
        code: m.code,
        message: typeof m.message === 'string' ? m.message : m.code,
      });
    default:
      return null;
  }
}

/** Why `topic` cannot be used, or null if it can. */
export function topicProblem(topic: unknown): string | null {
  if (typeof topic !== 'string' || topic.length === 0) return 'a topic is a non-empty string';
  if (topic.length > MAX_TOPIC_LENGTH) return `a topic has at most ${MAX_TOPIC_LENGTH} characters`;
  if (topic.charCodeAt(0) === 0) return 'a topic cannot start with NUL';
  return null;
}
