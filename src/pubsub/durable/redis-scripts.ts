/**
 * The Lua scripts by which RedisBroker keeps durable topics in Redis. Each runs atomically: the
 * offset is assigned, the message stored and PUBLISHed in one step, so that the order of the live
 * messages on the channel is the order of the offsets, for every process.
 *
 * Keys of a topic T (prefix P, default 'wskit:'; N: T's length), all with the Redis Cluster hash tag
 * {N:T}, so that the keys of one topic are in one slot and a script may use them together (else
 * CROSSSLOT):
 *   P s:{N:T}    a stream: one entry per retained message, ID "<offset>-0", fields t (Redis time, ms),
 *                f (flags: 1 binary, 2 not to be compressed), d (the message)
 *   P m:{N:T}    a hash: epoch (random, made with the first message or read of an empty Redis), last (the
 *                last offset); expires after max(2 × maxAge, one day) unused: a topic used once does not
 *                stay in Redis, and one used again after that long starts a new epoch
 *   P k:{N:T}:K  the offset of the message published with key K, expires with maxAge
 *   P p:{N:T}    presence: a sorted set, member = client, score = when its entry expires (ms)
 *   P pi:{N:T}   presence: a hash, client → the member as JSON
 * Redis hashes the text between the first '{' and the first '}' after it: "N:T", or its start up to a
 * '}' in T, the same for every key of T either way, and never empty (N is there even for a T that
 * starts with '}'). N also keeps "k:{N:T}:K" unique when T or K holds '}' or ':'. A prefix with a '{'
 * must close it ('{app}:'): then the prefix is the tag, and every topic is in its slot.
 * A flushed (or restarted, without persistence) Redis has no P m:T: the next script makes a new
 * epoch and the offsets start again at 1.
 */

/** Shared by the scripts: Redis's clock in ms, the topic's epoch (made when missing), age trimming. */
const PRELUDE = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The epoch (made when missing); the topic's state lives keep ms after its last use.
local function epochOf(meta, stream, fresh, keep)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = fresh
    redis.call('HSET', meta, 'epoch', epoch, 'last', 0)
    redis.call('DEL', stream)
  end
  redis.call('PEXPIRE', meta, keep)
  return epoch
end
local function offsetOf(id)
  return tonumber(string.match(id, '^(%d+)'))
end
-- Drops the entries older than cutoff; each entry is looked at once when it goes.
local function trimAge(stream, cutoff)
  for _ = 1, 1000 do
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    if #oldest == 0 then return end
    local fields = oldest[1][2]
    local t = 0
    for i = 1, #fields, 2 do if fields[i] == 't' then t = tonumber(fields[i + 1]) end end
    if t > cutoff then return end
    redis.call('XTRIM', stream, 'MINID', (offsetOf(oldest[1][1]) + 1) .. '-0')
  end
end
`;

/**
 * KEYS: stream, meta, key (or the stream again when there is no key)
 * ARGV: fresh epoch, maxCount, maxAge, data, flags, channel, envelope head, has key ('1'/'0')
 * Returns { offset, epoch, duplicate (1/0) }.
 */
export const APPEND_SCRIPT = `${PRELUDE}
local stream, meta, idem = KEYS[1], KEYS[2], KEYS[3]
local maxCount, maxAge = tonumber(ARGV[2]), tonumber(ARGV[3])
local epoch = epochOf(meta, stream, ARGV[1], math.max(2 * maxAge, 86400000))
if ARGV[8] == '1' then
  local previous = redis.call('GET', idem)
  if previous then return { tonumber(previous), epoch, 1 } end
end
local offset = redis.call('HINCRBY', meta, 'last', 1)
if maxCount > 0 and maxAge > 0 then
  local time = now()
  redis.call('XADD', stream, 'MAXLEN', '~', maxCount, offset .. '-0', 't', time, 'f', ARGV[5], 'd', ARGV[4])
  trimAge(stream, time - maxAge)
  redis.call('PEXPIRE', stream, maxAge)
  if ARGV[8] == '1' then redis.call('SET', idem, offset, 'PX', maxAge) end
end
redis.call('PUBLISH', ARGV[6], ARGV[7] .. offset .. ' ' .. epoch .. '\\n' .. ARGV[4])
return { offset, epoch, 0 }
`;

/**
 * KEYS: stream, meta
 * ARGV: fresh epoch, after, maxCount, maxAge
 * Returns { epoch, last, first, offset1, flags1, data1, offset2, ... }: the retained messages after `after`.
 */
export const READ_SCRIPT = `${PRELUDE}
local stream, meta = KEYS[1], KEYS[2]
local after, maxCount, maxAge = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local epoch = epochOf(meta, stream, ARGV[1], math.max(2 * maxAge, 86400000))
local last = tonumber(redis.call('HGET', meta, 'last'))
local reply = { epoch, last, last + 1 }
if maxCount == 0 or maxAge == 0 then return reply end
trimAge(stream, now() - maxAge)
local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
if #oldest == 0 then return reply end
local first = math.max(offsetOf(oldest[1][1]), last - maxCount + 1)
reply[3] = first
local from = math.max(first, after + 1)
if from > last then return reply end
local entries = redis.call('XRANGE', stream, from .. '-0', '+', 'COUNT', maxCount)
for _, entry in ipairs(entries) do
  local fields = entry[2]
  local flags, data = '0', ''
  for i = 1, #fields, 2 do
    if fields[i] == 'f' then flags = fields[i + 1] elseif fields[i] == 'd' then data = fields[i + 1] end
  end
  reply[#reply + 1] = offsetOf(entry[1])
  reply[#reply + 1] = flags
  reply[#reply + 1] = data
end
return reply
`;

/** Removes the expired entries of a presence (a 'leave' for each). KEYS: set, hash; ARGV[1]: channel, ARGV[2]: leave head. */
const REAP = `
local function reap(set, hash, channel, head, time)
  local expired = redis.call('ZRANGEBYSCORE', set, '-inf', time)
  for _, client in ipairs(expired) do
    redis.call('ZREM', set, client)
    local member = redis.call('HGET', hash, client)
    redis.call('HDEL', hash, client)
    if member then redis.call('PUBLISH', channel, head .. member) end
  end
end
`;

/**
 * Adds (or renews) members of one process in a topic's presence, and reaps the expired ones.
 * KEYS: set, hash
 * ARGV: ttl, channel, join head, leave head, always announce ('1': a join; '0': a renewal, announced
 * only for a member that was not there), then client, member JSON, client, member JSON, ...
 */
export const PRESENCE_JOIN_SCRIPT = `${PRELUDE}${REAP}
local set, hash = KEYS[1], KEYS[2]
local ttl = tonumber(ARGV[1])
local time = now()
-- Renewed first, then reaped: a renewal that comes late never makes its own members leave.
for i = 6, #ARGV, 2 do
  local added = redis.call('ZADD', set, time + ttl, ARGV[i])
  redis.call('HSET', hash, ARGV[i], ARGV[i + 1])
  if added == 1 or ARGV[5] == '1' then redis.call('PUBLISH', ARGV[2], ARGV[3] .. ARGV[i + 1]) end
end
reap(set, hash, ARGV[2], ARGV[4], time)
redis.call('PEXPIRE', set, ttl * 2)
redis.call('PEXPIRE', hash, ttl * 2)
return 1
`;

/** KEYS: set, hash; ARGV: client, channel, leave head. */
export const PRESENCE_LEAVE_SCRIPT = `
local member = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if member then redis.call('PUBLISH', ARGV[2], ARGV[3] .. member) end
return 1
`;

/** KEYS: set, hash; ARGV: channel, leave head. Returns the members' JSON, after reaping. */
export const PRESENCE_MEMBERS_SCRIPT = `${PRELUDE}${REAP}
reap(KEYS[1], KEYS[2], ARGV[1], ARGV[2], now())
local clients = redis.call('ZRANGE', KEYS[1], 0, -1)
if #clients == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(clients))
`;

/** The keys of topic `topic` under `prefix`, in one Redis Cluster slot (the hash tag `{length:topic}`). */
export function durableKeys(prefix: string, topic: string) {
  const tag = `{${topic.length}:${topic}}`;
  return {
    stream: `${prefix}s:${tag}`,
    meta: `${prefix}m:${tag}`,
    key: (key: string) => `${prefix}k:${tag}:${key}`,
    presence: `${prefix}p:${tag}`,
    presenceInfo: `${prefix}pi:${tag}`,
  };
}

/**
 * Why a prefix cannot be used for durable topics' keys, or null: a '{' that no '}' closes in the
 * prefix (or '{}', no tag for Redis) would make the hash tag start in the prefix and end in the
 * topic, different for each key.
 */
export function prefixProblem(prefix: string): string | null {
  const open = prefix.indexOf('{');
  // '{}' is no tag for Redis (it hashes the whole key): the '}' must come after something.
  if (open === -1 || (prefix.indexOf('}', open + 2) !== -1 && prefix[open + 1] !== '}')) return null;
  return `Option prefix must close the first '{' it opens after at least one character (a Redis Cluster hash tag, such as '{app}:'); got ${JSON.stringify(prefix)}`;
}
