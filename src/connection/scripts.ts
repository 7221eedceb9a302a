import type { Redis } from 'ioredis';
import type { FieldValue } from '../codec/stream-codec.js';

/**
 * Appends to the dead-letter stream, then acknowledges the original. A failing
 * XADD (wrong key type, out of memory) aborts the script before the XACK, so an
 * entry is never acknowledged without having been copied.
 */
const DEAD_LETTER_SCRIPT = `
local id
if ARGV[3] ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
return id
`;

/**
 * Resets the idle time of entries still owned by this consumer, without
 * counting a delivery. Entries another consumer has claimed are left alone.
 */
const RENEW_LEASE_SCRIPT = `
local renewed = 0
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if entry[1] and entry[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed
`;

/**
 * Deletes consumers idle for at least ARGV[2] ms that own no pending entry.
 * Checking and deleting in one script means a consumer that picks up an entry
 * in between is never deleted. ARGV[3] names a consumer to keep (the caller).
 */
const DELETE_IDLE_CONSUMERS_SCRIPT = `
local deleted = {}
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, consumer in ipairs(consumers) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) and info['name'] ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    table.insert(deleted, info['name'])
  end
end
return deleted
`;

/** Deletes one consumer only if it owns no pending entry. */
const DELETE_CONSUMER_IF_IDLE_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if pending[1] then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) >= 0 and 1 or 0
`;

/** Scripts run through EVALSHA (loaded on first use, cached by ioredis). */
export interface StreamScripts {
  deadLetter(
    deadLetterStream: string,
    stream: string,
    group: string,
    id: string,
    maxLen: string,
    ...fields: FieldValue[]
  ): Promise<string>;
  renewLease(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
  deleteIdleConsumers(stream: string, group: string, minIdleMs: string, keep: string): Promise<string[]>;
  deleteConsumerIfIdle(stream: string, group: string, consumer: string): Promise<number>;
}

/** Registers the scripts on a client and returns them typed. */
export function defineScripts(redis: Redis): StreamScripts {
  redis.defineCommand('nrsDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER_SCRIPT });
  redis.defineCommand('nrsRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE_SCRIPT });
  redis.defineCommand('nrsDeleteIdleConsumers', { numberOfKeys: 1, lua: DELETE_IDLE_CONSUMERS_SCRIPT });
  redis.defineCommand('nrsDeleteConsumerIfIdle', { numberOfKeys: 1, lua: DELETE_CONSUMER_IF_IDLE_SCRIPT });
  const call = (name: string, ...args: FieldValue[]): Promise<unknown> =>
    (redis as unknown as Record<string, (...a: FieldValue[]) => Promise<unknown>>)[name]!(...args);
  return {
    deadLetter: (dlq, stream, group, id, maxLen, ...fields) =>
      call('nrsDeadLetter', dlq, stream, group, id, maxLen, ...fields) as Promise<string>,
    renewLease: (stream, group, consumer, ...ids) =>
      call('nrsRenewLease', stream, group, consumer, ...ids) as Promise<number>,
    deleteIdleConsumers: (stream, group, minIdleMs, keep) =>
      call('nrsDeleteIdleConsumers', stream, group, minIdleMs, keep) as Promise<string[]>,
    deleteConsumerIfIdle: (stream, group, consumer) =>
      call('nrsDeleteConsumerIfIdle', stream, group, consumer) as Promise<number>,
  };
}
