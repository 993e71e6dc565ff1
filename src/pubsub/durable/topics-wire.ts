/**
 * The messages of the wskit.topics.v1 protocol (docs/topics-protocol.md): checking what a client
 * sends, and writing what the server sends. Pure functions; no I/O.
 */
import { Buffer } from 'node:buffer';
import { MAX_TOPIC_LENGTH } from '../topic-registry.js';
import type { PresenceMember, RetainedMessage } from './sequenced.js';

export const TOPICS_PROTOCOL = 'wskit.topics.v1';

export const MAX_KEY_LENGTH = 64;
/** Largest presence info, as JSON, in bytes. */
export const MAX_INFO_BYTES = 1024;

export type ErrorReply =
  | 'bad_message'
  | 'bad_topic'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'not_subscribed';

export interface Since {
  offset: number;
  epoch: string;
}

export type ClientRequest =
  | {
      type: 'subscribe';
      id?: number;
      topic: string;
      since?: Since;
      history?: number;
      presence?: { info: unknown };
    }
  | { type: 'unsubscribe'; id?: number; topic: string }
  | { type: 'publish'; id?: number; topic: string; data: Buffer; isBinary: boolean; key?: string }
  | { type: 'presence'; id?: number; topic: string }
  | { type: 'ping'; id?: number };

/** A request the server refuses, with what to answer. */
export class BadRequest {
  constructor(
    readonly code: ErrorReply,
    readonly message: string,
    readonly id: number | undefined,
  ) {}
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTopic(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_TOPIC_LENGTH &&
    value.charCodeAt(0) !== 0
  );
}

/** The request in a text message, or a BadRequest saying what is wrong with it. */
export function parseRequest(text: string): ClientRequest | BadRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new BadRequest('bad_message', 'A message must be one JSON object', undefined);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new BadRequest('bad_message', 'A message must be one JSON object', undefined);
  }
  const m = value as Record<string, unknown>;
  const rawId = m.id;
  const id = isOffset(rawId) ? rawId : undefined;
  const bad = (code: ErrorReply, message: string) => new BadRequest(code, message, id);
  if (rawId !== undefined && id === undefined) {
    return bad('bad_message', 'id must be an integer from 0 to 2^53 - 1');
  }
  const type = m.type;
  if (type === 'ping') return { type, id };
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'publish' && type !== 'presence') {
    return bad('bad_message', `Unknown message type ${JSON.stringify(type)}`);
  }
  const topic = m.topic;
  if (!isTopic(topic)) {
    return bad(
      'bad_topic',
      `topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters, not starting with NUL`,
    );
  }
  switch (type) {
    case 'unsubscribe':
    case 'presence':
      return { type, id, topic };
    case 'subscribe':
      return parseSubscribe(m, id, topic, bad);
    case 'publish':
      return parsePublish(m, id, topic, bad);
  }
}

function parseSubscribe(
  m: Record<string, unknown>,
  id: number | undefined,
  topic: string,
  bad: (code: ErrorReply, message: string) => BadRequest,
): ClientRequest | BadRequest {
  const request: ClientRequest & { type: 'subscribe' } = { type: 'subscribe', id, topic };
  if (m.since !== undefined) {
    const since = m.since as Record<string, unknown> | null;
    if (
      typeof since !== 'object' ||
      since === null ||
      !isOffset(since.offset) ||
      typeof since.epoch !== 'string'
    ) {
      return bad('bad_message', 'since must be { offset: integer ≥ 0, epoch: string }');
    }
    request.since = { offset: since.offset, epoch: since.epoch };
  }
  if (m.history !== undefined) {
    if (!isOffset(m.history)) return bad('bad_message', 'history must be an integer ≥ 0');
    request.history = m.history;
  }
  if (m.presence !== undefined) {
    const presence = m.presence as Record<string, unknown> | null;
    if (typeof presence !== 'object' || presence === null) {
      return bad('bad_message', 'presence must be an object: { info }');
    }
    const info = presence.info ?? null;
    if (Buffer.byteLength(JSON.stringify(info) ?? 'null') > MAX_INFO_BYTES) {
      return bad('too_large', `presence.info must be at most ${MAX_INFO_BYTES} bytes of JSON`);
    }
    request.presence = { info };
  }
  return request;
}

function parsePublish(
  m: Record<string, unknown>,
  id: number | undefined,
  topic: string,
  bad: (code: ErrorReply, message: string) => BadRequest,
): ClientRequest | BadRequest {
  if (typeof m.data !== 'string') return bad('bad_message', 'data must be a string');
  if (m.binary !== undefined && typeof m.binary !== 'boolean') {
    return bad('bad_message', 'binary must be true or false');
  }
  const isBinary = m.binary === true;
  const key = m.key;
  if (key !== undefined && (typeof key !== 'string' || key.length > MAX_KEY_LENGTH)) {
    return bad('bad_message', `key must be a string of at most ${MAX_KEY_LENGTH} characters`);
  }
  const data = isBinary ? Buffer.from(m.data, 'base64') : Buffer.from(m.data);
  return { type: 'publish', id, topic, data, isBinary, key: key as string | undefined };
}

// ---- server → client ----

function withId(id: number | undefined): string {
  return id === undefined ? '' : `"id":${id},`;
}

/** The JSON of a `message`, the same for every subscriber (it is framed once for all of them). */
export function messageText(topic: string, m: RetainedMessage & { epoch: string }): string {
  const data = m.isBinary
    ? `${JSON.stringify(m.data.toString('base64'))},"binary":true`
    : JSON.stringify(m.data.toString());
  return `{"type":"message","topic":${JSON.stringify(topic)},"offset":${m.offset},"epoch":${JSON.stringify(m.epoch)},"data":${data}}`;
}

export interface Gap {
  reason: 'retention' | 'epoch' | 'unavailable';
  from: number;
  to: number;
}

export function subscribedText(
  id: number | undefined,
  topic: string,
  epoch: string,
  offset: number,
  recovered: boolean,
  gap: Gap | undefined,
): string {
  return JSON.stringify({ type: 'subscribed', id, topic, epoch, offset, recovered, gap });
}

export function errorText(id: number | undefined, code: ErrorReply, message: string): string {
  return `{${withId(id)}"type":"error","code":"${code}","message":${JSON.stringify(message)}}`;
}

export function replyText(type: string, id: number | undefined, fields: Record<string, unknown>): string {
  return JSON.stringify({ type, id, ...fields });
}

export function presenceText(type: 'join' | 'leave', topic: string, member: PresenceMember): string {
  return JSON.stringify({ type, topic, member: { client: member.client, info: member.info } });
}
