import { createHash } from 'node:crypto';
import type { Result } from 'ioredis';
import type { FieldValue } from '../codec/stream-codec.js';
import type { RedisClient } from './redis-client.js';

/**
 * The transport's Lua scripts as ioredis commands, typed through ioredis' own
 * module augmentation: `defineScripts()` registers them on a client, and
 * ioredis then runs each through EVALSHA (loading it on first use). The reply
 * types are what Redis converts each script's Lua return value to;
 * {@link defineScripts} is the one place that reads them.
 *
 * On a cluster, ioredis sends a script to the node serving its first key,
 * and Redis refuses keys of several slots (CROSSSLOT): the keys of each
 * script share a slot, which for the dead-letter move the start-up check
 * guarantees (the dead-letter stream's name carries its source's hash tag).
 */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    /**
     * Copies an entry to its dead-letter stream, then acknowledges the original.
     *
     * KEYS: [1] the dead-letter stream, [2] the source stream (one slot on a cluster).
     * ARGV: [1] group, [2] entry id, [3] MAXLEN of the dead-letter stream (`''`
     * for none), [4…] the dead-letter record's fields and values.
     *
     * Atomic so that an entry is never acknowledged without having been
     * copied: a failing XADD (wrong key type, out of memory) aborts the script
     * before the XACK. Returns the dead-letter entry's id.
     */
    nrsDeadLetter(
      deadLetterStream: string,
      stream: string,
      group: string,
      id: string,
      maxLen: string,
      ...fields: FieldValue[]
    ): Result<string, Context>;

    /**
     * Resets the idle time of entries still owned by this consumer, without
     * counting a delivery.
     *
     * KEYS: [1] the stream. ARGV: [1] group, [2] consumer, [3…] entry ids.
     *
     * Atomic so that an entry another consumer claimed between the ownership
     * check and the XCLAIM is never taken back. Returns the ids it did not
     * renew: no longer pending on this consumer (another consumer or an
     * operator claimed them, or they were acknowledged or deleted meanwhile).
     */
    nrsRenewLease(stream: string, group: string, consumer: string, ...ids: string[]): Result<string[], Context>;

    /**
     * Deletes the group's consumers idle for at least a given time that own no
     * pending entry.
     *
     * KEYS: [1] the stream. ARGV: [1] group, [2] minimum idle time in ms,
     * [3] a consumer to keep (the caller).
     *
     * Atomic so that a consumer picking up an entry between the check and the
     * delete is never deleted (its entry would lose its owner). Returns the
     * names deleted.
     */
    nrsDeleteIdleConsumers(stream: string, group: string, minIdleMs: string, keep: string): Result<string[], Context>;

    /**
     * Deletes one consumer if it owns no pending entry.
     *
     * KEYS: [1] the stream. ARGV: [1] group, [2] consumer.
     *
     * Atomic for the same reason as `nrsDeleteIdleConsumers`. Returns 1 when
     * deleted, 0 when it still owns entries.
     */
    nrsDeleteConsumerIfIdle(stream: string, group: string, consumer: string): Result<number, Context>;
  }
}

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

const RENEW_LEASE_SCRIPT = `
local lost = {}
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if entry[1] and entry[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
`;

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

const DELETE_CONSUMER_IF_IDLE_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if pending[1] then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) >= 0 and 1 or 0
`;

const REPLY_AND_ACK_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'NOMKSTREAM', '*', unpack(ARGV, 3))
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
return id
`;

/** The SHA1 digest EVALSHA names the reply-and-ack script by. */
const REPLY_AND_ACK_SHA = createHash('sha1').update(REPLY_AND_ACK_SCRIPT).digest('hex');

/** Whether Redis answered that it does not hold a script (first use on this server, or after SCRIPT FLUSH or a restart). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Appends a request's last reply to its caller's reply stream, then
 * acknowledges the request entry.
 *
 * KEYS: [1] the reply stream, [2] the request stream (one Redis; on a
 * cluster the two live in different slots, and the server appends and
 * acknowledges apart). ARGV: [1] group, [2] request entry id, [3…] the
 * reply's fields and values.
 *
 * One command instead of two at every request, and atomic: a request is
 * never acknowledged without its answer written (a failing XADD aborts the
 * script before the XACK). `NOMKSTREAM`: a client that is gone has no
 * stream and gets none; the request is acknowledged all the same. Returns
 * the reply's id, or null when the reply stream is gone.
 *
 * Sent as a plain `EVALSHA` (and, when Redis does not hold the script yet,
 * once as `EVAL`, which loads it). It runs at every request, where ioredis'
 * own script commands cost a wrapper class instance, a closure and two extra
 * promises per call.
 */
function replyAndAck(
  redis: RedisClient,
  replyStream: string,
  stream: string,
  group: string,
  id: string,
  fields: FieldValue[],
): Promise<string | null> {
  return (redis.evalsha(REPLY_AND_ACK_SHA, 2, replyStream, stream, group, id, ...fields) as Promise<string | null>).catch(
    (error: unknown) => {
      if (!isNoScript(error)) throw error;
      return redis.eval(REPLY_AND_ACK_SCRIPT, 2, replyStream, stream, group, id, ...fields) as Promise<string | null>;
    },
  );
}

/** Scripts run through EVALSHA (loaded on first use, cached by ioredis). */
export interface StreamScripts {
  deadLetter(deadLetterStream: string, stream: string, group: string, id: string, maxLen: string, ...fields: FieldValue[]): Promise<string>;
  renewLease(stream: string, group: string, consumer: string, ...ids: string[]): Promise<string[]>;
  deleteIdleConsumers(stream: string, group: string, minIdleMs: string, keep: string): Promise<string[]>;
  deleteConsumerIfIdle(stream: string, group: string, consumer: string): Promise<number>;
  replyAndAck(replyStream: string, stream: string, group: string, id: string, fields: FieldValue[]): Promise<string | null>;
}

/** Registers the scripts on a client (one Redis or a cluster) and returns them typed. */
export function defineScripts(redis: RedisClient): StreamScripts {
  redis.defineCommand('nrsDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER_SCRIPT });
  redis.defineCommand('nrsRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE_SCRIPT });
  redis.defineCommand('nrsDeleteIdleConsumers', { numberOfKeys: 1, lua: DELETE_IDLE_CONSUMERS_SCRIPT });
  redis.defineCommand('nrsDeleteConsumerIfIdle', { numberOfKeys: 1, lua: DELETE_CONSUMER_IF_IDLE_SCRIPT });
  return {
    deadLetter: (dlq, stream, group, id, maxLen, ...fields) => redis.nrsDeadLetter(dlq, stream, group, id, maxLen, ...fields),
    renewLease: (stream, group, consumer, ...ids) => redis.nrsRenewLease(stream, group, consumer, ...ids),
    deleteIdleConsumers: (stream, group, minIdleMs, keep) => redis.nrsDeleteIdleConsumers(stream, group, minIdleMs, keep),
    deleteConsumerIfIdle: (stream, group, consumer) => redis.nrsDeleteConsumerIfIdle(stream, group, consumer),
    replyAndAck: (replyStream, stream, group, id, fields) => replyAndAck(redis, replyStream, stream, group, id, fields),
  };
}
