/**
 * Durable topics in Redis, for RedisBroker: running the Lua scripts of redis-scripts.ts on the
 * publisher connection and reading their replies. Kept out of redis-broker.ts, which connects and
 * subscribes; this file knows the keys and the scripts.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { KIND_JOIN, KIND_LEAVE, NO_COMPRESS, sequencedHead } from '../redis-envelope.js';
import { newEpoch } from './memory-history.js';
import {
  APPEND_SCRIPT,
  durableKeys,
  PRESENCE_JOIN_SCRIPT,
  PRESENCE_LEAVE_SCRIPT,
  PRESENCE_MEMBERS_SCRIPT,
  READ_SCRIPT,
} from './redis-scripts.js';
import type {
  Appended,
  AppendRequest,
  HistoryRange,
  PresenceMember,
  RetainedMessage,
  Retention,
} from './sequenced.js';

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const APPEND = script(APPEND_SCRIPT);
const READ = script(READ_SCRIPT);
const JOIN = script(PRESENCE_JOIN_SCRIPT);
const LEAVE = script(PRESENCE_LEAVE_SCRIPT);
const MEMBERS = script(PRESENCE_MEMBERS_SCRIPT);

type Arg = string | Buffer | number;

/** EVALSHA, and EVAL the first time (or after Redis lost its script cache: a restart). */
async function run(client: RedisClient, s: Script, keys: string[], args: Arg[]): Promise<unknown> {
  try {
    return await client.callBuffer('EVALSHA', s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!/NOSCRIPT/.test((err as Error).message)) throw err;
    return client.callBuffer('EVAL', s.source, keys.length, ...keys, ...args);
  }
}

const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString() : String(value));

export class RedisHistory {
  private readonly prefix: string;
  private readonly origin: Buffer;
  private readonly joinHead: Buffer;
  private readonly leaveHead: Buffer;

  constructor(prefix: string, origin: Buffer) {
    this.prefix = prefix;
    this.origin = origin;
    this.joinHead = sequencedHead(origin, 0, 0, KIND_JOIN);
    this.leaveHead = sequencedHead(origin, 0, 0, KIND_LEAVE);
  }

  async append(client: RedisClient, topic: string, request: AppendRequest, tag: number): Promise<Appended> {
    const keys = durableKeys(this.prefix, topic);
    const flags = (request.isBinary ? 1 : 0) | (request.noCompress ? NO_COMPRESS : 0);
    const hasKey = request.key !== undefined;
    const reply = (await run(
      client,
      APPEND,
      [keys.stream, keys.meta, hasKey ? keys.key(request.key!) : keys.stream],
      [
        newEpoch(),
        request.retention.maxCount,
        Math.ceil(request.retention.maxAge),
        request.data,
        flags,
        this.prefix + topic,
        sequencedHead(this.origin, tag, flags, 0),
        hasKey ? '1' : '0',
      ],
    )) as [number, Buffer, number];
    return { offset: Number(reply[0]), epoch: text(reply[1]), duplicate: Number(reply[2]) === 1 };
  }

  async read(client: RedisClient, topic: string, after: number, retention: Retention): Promise<HistoryRange> {
    const keys = durableKeys(this.prefix, topic);
    const reply = (await run(
      client,
      READ,
      [keys.stream, keys.meta],
      [newEpoch(), after, retention.maxCount, Math.ceil(retention.maxAge)],
    )) as unknown[];
    const messages: RetainedMessage[] = [];
    for (let i = 3; i + 2 < reply.length; i += 3) {
      const flags = Number(text(reply[i + 1]));
      messages.push({ offset: Number(reply[i]), data: reply[i + 2] as Buffer, isBinary: (flags & 1) !== 0 });
    }
    return { epoch: text(reply[0]), last: Number(reply[1]), first: Number(reply[2]), messages };
  }

  /** Adds members (a join for each when `announce`; else only for those Redis had lost), reaps expired ones. */
  async join(
    client: RedisClient,
    topic: string,
    members: PresenceMember[],
    ttl: number,
    announce: boolean,
  ): Promise<void> {
    const keys = durableKeys(this.prefix, topic);
    const args: Arg[] = [ttl, this.prefix + topic, this.joinHead, this.leaveHead, announce ? '1' : '0'];
    for (const m of members) args.push(m.client, JSON.stringify({ client: m.client, info: m.info }));
    await run(client, JOIN, [keys.presence, keys.presenceInfo], args);
  }

  async leave(client: RedisClient, topic: string, member: PresenceMember): Promise<void> {
    const keys = durableKeys(this.prefix, topic);
    await run(
      client,
      LEAVE,
      [keys.presence, keys.presenceInfo],
      [member.client, this.prefix + topic, this.leaveHead],
    );
  }

  async members(client: RedisClient, topic: string): Promise<PresenceMember[]> {
    const keys = durableKeys(this.prefix, topic);
    const reply = (await run(
      client,
      MEMBERS,
      [keys.presence, keys.presenceInfo],
      [this.prefix + topic, this.leaveHead],
    )) as (Buffer | null)[];
    const members: PresenceMember[] = [];
    for (const json of reply) if (json !== null) members.push(JSON.parse(json.toString()) as PresenceMember);
    return members;
  }
}
