import type { Result } from 'ioredis';
import type { FieldValue } from '../codec/stream-codec.js';
import type { RedisClient } from './redis-client.js';

/**
 * The list queues' Lua scripts as ioredis commands (see `scripts.ts` for how
 * they are typed and run). Every key of one list shares its hash slot (see
 * `listKeysOf` in routing/), so each script runs on one node of a cluster.
 * They touch KEYS only, so ioredis' `keyPrefix` reaches every key, once.
 * Values are moved and compared as bytes.
 */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    /**
     * Moves up to `count` entries from the head of the list to the tail of
     * this consumer's processing list.
     *
     * KEYS: [1] the list, [2] the processing list. ARGV: [1] count.
     *
     * One script, so that taking a batch is one round trip and every entry
     * taken is in the processing list the moment it leaves the list (LMOVE
     * each: nothing is ever only in memory). Returns the entries, oldest first.
     */
    nrsListTakeBuffer(list: string, processing: string, count: number): Result<Buffer[], Context>;

    /**
     * Removes settled entries from the processing list, one occurrence each
     * (identical values queued several times are each handled once per occurrence).
     *
     * KEYS: [1] the processing list. ARGV: the values. Returns how many were removed.
     */
    nrsListAck(processing: string, ...values: Buffer[]): Result<number, Context>;

    /**
     * Hands an entry back for a retry: adds its wrapped form to the retry set,
     * due `delayMs` from Redis' clock, then removes it from the processing list.
     *
     * KEYS: [1] the processing list, [2] the retry set. ARGV: [1] the value
     * as in the processing list, [2] delay in ms, [3] the wrapped value (unique per hand-back).
     *
     * Atomic so that the entry is in exactly one of the two; the ZADD first,
     * because a script's writes before an error stay. Handed back even when
     * the value is no longer in the processing list (a consumer recovered it
     * while this one's liveness key had lapsed, or a removal sent twice after
     * a reconnect took an identical copy): a duplicate rather than a loss.
     * Returns how many were removed (0 or 1).
     */
    nrsListRetry(processing: string, retry: string, value: Buffer, delayMs: number, wrapped: Buffer): Result<number, Context>;

    /**
     * Moves retries that are due (by Redis' clock) to the head of the list,
     * the earliest due first in line.
     *
     * KEYS: [1] the retry set, [2] the list. ARGV: [1] most to move.
     *
     * Returns `[moved, ms until the next is due or -1]`.
     */
    nrsListPromote(retry: string, list: string, max: number): Result<[number, number], Context>;

    /**
     * Puts the entries of a processing list back at the head of the list, in
     * their order, each with one more delivery counted (the consumer that held
     * them may have crashed on them): a dead consumer's, once its liveness key
     * has expired, or this consumer's own on start.
     *
     * KEYS: [1] its liveness key, [2] its processing list, [3] the list, [4]
     * the registry. ARGV: [1] its name, [2] most to move, [3] `'1'` for this
     * consumer's own (no liveness check, stays registered).
     *
     * Atomic so that a consumer found dead is not alive again halfway
     * (LMOVE each: an entry is always in one list). Returns how many were
     * moved, or -1 when the consumer is alive.
     */
    nrsListRecover(
      alive: string,
      processing: string,
      list: string,
      registry: string,
      consumer: string,
      max: number,
      isOwn: string,
    ): Result<number, Context>;

    /**
     * Copies an entry to the dead-letter stream, then removes it from the
     * processing list.
     *
     * KEYS: [1] the dead-letter stream, [2] the processing list. ARGV: [1] the
     * value as in the processing list, [2] MAXLEN (`''` for none), [3…] the
     * dead-letter record's fields and values.
     *
     * Atomic so that an entry is never removed without having been copied (a
     * failing XADD aborts before the LREM). Copied even when the value is no
     * longer in the processing list (see nrsListRetry). Returns the dead letter's id.
     */
    nrsListDeadLetter(
      deadLetterStream: string,
      processing: string,
      value: Buffer,
      maxLen: string,
      ...fields: FieldValue[]
    ): Result<string, Context>;
  }
}

const TAKE_SCRIPT = `
local taken = {}
for i = 1, tonumber(ARGV[1]) do
  local value = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not value then break end
  taken[i] = value
end
return taken
`;

const ACK_SCRIPT = `
local removed = 0
for i = 1, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i])
end
return removed
`;

const NOW_MS = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

const RETRY_SCRIPT = `
${NOW_MS}
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
return redis.call('LREM', KEYS[1], 1, ARGV[1])
`;

const PROMOTE_SCRIPT = `
${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for i = #due, 1, -1 do
  redis.call('LPUSH', KEYS[2], due[i])
  redis.call('ZREM', KEYS[1], due[i])
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if next[2] then return { #due, math.max(0, tonumber(next[2]) - now) } end
return { #due, -1 }
`;

// The retry wrapper of codec/list-codec.ts: \\0nrs1:r:<deliveries>:<id>:<entry>.
const RECOVER_SCRIPT = `
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local prefix = '\\0nrs1:r:'
local function counted(value)
  if string.sub(value, 1, 8) == prefix then
    local colon = string.find(value, ':', 9, true)
    local deliveries = colon and tonumber(string.sub(value, 9, colon - 1))
    if deliveries then return prefix .. (deliveries + 1) .. string.sub(value, colon) end
    return value
  end
  return prefix .. '1:-:' .. value
end
local moved = 0
while moved < tonumber(ARGV[2]) do
  local value = redis.call('LMOVE', KEYS[2], KEYS[3], 'RIGHT', 'LEFT')
  if not value then break end
  redis.call('LSET', KEYS[3], 0, counted(value))
  moved = moved + 1
end
if ARGV[3] ~= '1' and redis.call('LLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[4], ARGV[1]) end
return moved
`;

const DEAD_LETTER_SCRIPT = `
local id
if ARGV[2] ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
end
redis.call('LREM', KEYS[2], 1, ARGV[1])
return id
`;

/** The list scripts, typed; run through EVALSHA (loaded on first use, cached by ioredis). */
export interface ListScripts {
  take(list: string, processing: string, count: number): Promise<Buffer[]>;
  ack(processing: string, values: readonly Buffer[]): Promise<number>;
  retry(processing: string, retry: string, value: Buffer, delayMs: number, wrapped: Buffer): Promise<number>;
  promote(retry: string, list: string, max: number): Promise<[moved: number, nextDueInMs: number]>;
  recover(
    keys: { alive: string; processing: string; list: string; registry: string },
    consumer: string,
    max: number,
    isOwn: boolean,
  ): Promise<number>;
  deadLetter(
    deadLetterStream: string,
    processing: string,
    value: Buffer,
    maxLen: string,
    fields: readonly FieldValue[],
  ): Promise<string | null>;
}

/** Registers the list scripts on a client (one Redis or a cluster) and returns them typed. */
export function defineListScripts(redis: RedisClient): ListScripts {
  redis.defineCommand('nrsListTake', { numberOfKeys: 2, lua: TAKE_SCRIPT });
  redis.defineCommand('nrsListAck', { numberOfKeys: 1, lua: ACK_SCRIPT });
  redis.defineCommand('nrsListRetry', { numberOfKeys: 2, lua: RETRY_SCRIPT });
  redis.defineCommand('nrsListPromote', { numberOfKeys: 2, lua: PROMOTE_SCRIPT });
  redis.defineCommand('nrsListRecover', { numberOfKeys: 4, lua: RECOVER_SCRIPT });
  redis.defineCommand('nrsListDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER_SCRIPT });
  return {
    take: (list, processing, count) => redis.nrsListTakeBuffer(list, processing, count),
    ack: (processing, values) => redis.nrsListAck(processing, ...values),
    retry: (processing, retry, value, delayMs, wrapped) => redis.nrsListRetry(processing, retry, value, delayMs, wrapped),
    promote: (retry, list, max) => redis.nrsListPromote(retry, list, max),
    recover: (keys, consumer, max, isOwn) =>
      redis.nrsListRecover(keys.alive, keys.processing, keys.list, keys.registry, consumer, max, isOwn ? '1' : '0'),
    deadLetter: (dlq, processing, value, maxLen, fields) => redis.nrsListDeadLetter(dlq, processing, value, maxLen, ...fields),
  };
}
