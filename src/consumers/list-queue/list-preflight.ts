import { randomUUID } from 'node:crypto';
import type { Probe } from '../../connection/acl-probe.js';
import type { RedisClient } from '../../connection/redis-client.js';
import { ListConfigurationError } from '../../errors/list-configuration.error.js';
import { aliveKeyOf, listKeysOf } from '../../routing/key-names.js';

/** A bound list as the start-up checks see it. */
export interface ListCheck {
  readonly list: string;
  readonly consumer: string;
  readonly deadLetterStream: string;
  readonly claimIdleMs: number;
}

/**
 * The ACL probes of list queues (see the stream preflight for how probes
 * work): every command a list consumer sends, in a form that changes
 * nothing, each multi-key command once per key so that a denial names the
 * key. Commands inside the Lua scripts count too (Redis checks them when the
 * script runs). LPUSH (promoting retries) has no harmless form with a valid
 * arity, so it is probed on this consumer's liveness key, which the probe
 * before it has just set (a string: LPUSH answers WRONGTYPE when allowed).
 */
export function listProbes(lists: readonly ListCheck[]): Probe[] {
  if (lists.length === 0) return [];
  const probes: Probe[] = [{ acl: 'time', args: ['TIME'] }];
  const nobody = `nrs-preflight-${randomUUID()}`;
  for (const { list, consumer, deadLetterStream: dlq, claimIdleMs } of lists) {
    const keys = listKeysOf(list, consumer);
    const on = (acl: string, key: string, ...args: Array<string | number>): Probe => ({ acl, key, args, owner: list });
    probes.push(
      on('type', keys.list, 'TYPE', keys.list),
      // A negative timeout is refused after the ACL check: nothing moves.
      on('blmove', keys.list, 'BLMOVE', keys.list, keys.list, 'LEFT', 'RIGHT', -1),
      on('blmove', keys.processing, 'BLMOVE', keys.processing, keys.processing, 'LEFT', 'RIGHT', -1),
      on('lmove', keys.list, 'LMOVE', keys.list, keys.list, 'NOWHERE', 'LEFT'),
      on('lmove', keys.processing, 'LMOVE', keys.processing, keys.processing, 'NOWHERE', 'LEFT'),
      on('lrem', keys.processing, 'LREM', keys.processing, 'not-a-count', nobody),
      on('lset', keys.list, 'LSET', keys.list, 'not-an-index', nobody),
      on('llen', keys.processing, 'LLEN', keys.processing),
      // Only after a lapsed liveness key: which running entries were recovered by another consumer.
      on('lpos', keys.processing, 'LPOS', keys.processing, nobody),
      on('set', keys.alive, 'SET', keys.alive, '1', 'PX', claimIdleMs),
      on('lpush', keys.alive, 'LPUSH', keys.alive, nobody),
      on('exists', keys.alive, 'EXISTS', keys.alive),
      on('pttl', keys.alive, 'PTTL', keys.alive),
      on('del', keys.alive, 'DEL', aliveKeyOf(list, nobody)),
      on('sadd', keys.registry, 'SADD', keys.registry, consumer),
      on('smembers', keys.registry, 'SMEMBERS', keys.registry),
      on('srem', keys.registry, 'SREM', keys.registry, nobody),
      on('zadd', keys.retry, 'ZADD', keys.retry, 'not-a-score', nobody),
      on('zrangebyscore', keys.retry, 'ZRANGEBYSCORE', keys.retry, 1, 0),
      on('zrange', keys.retry, 'ZRANGE', keys.retry, 1, 0),
      on('zrem', keys.retry, 'ZREM', keys.retry, nobody),
      // XADD refuses the id 0-0 before writing (and NOMKSTREAM would not create the key).
      on('xadd', dlq, 'XADD', dlq, 'NOMKSTREAM', '0-0', 'f', 'v'),
    );
    for (const key of [keys.list, keys.processing, keys.alive, keys.registry, keys.retry, dlq]) {
      probes.push(on('evalsha', key, 'EVALSHA', '0'.repeat(40), 1, key), on('eval', key, 'EVAL', 'return 0', 1, key));
    }
  }
  return probes;
}

/** What each key of a list queue must hold (or not exist). */
const EXPECTED_TYPES = [
  { part: 'list', type: 'list', role: 'the list' },
  { part: 'processing', type: 'list', role: "this consumer's processing list" },
  { part: 'registry', type: 'set', role: "the list's consumer registry" },
  { part: 'retry', type: 'zset', role: "the list's retry set" },
] as const;

/**
 * Checks, before anything is taken, that every key of each bound list holds
 * what the transport keeps there (or does not exist yet).
 *
 * @throws ListConfigurationError naming the list, the key, its type and the fix
 */
export async function checkListKeys(commands: RedisClient, lists: readonly ListCheck[]): Promise<void> {
  for (const { list, consumer, deadLetterStream } of lists) {
    const keys = listKeysOf(list, consumer);
    const wanted = [
      ...EXPECTED_TYPES.map(({ part, type, role }) => ({ key: keys[part], type, role })),
      { key: deadLetterStream, type: 'stream', role: "the list's dead-letter stream" },
    ];
    const types = await Promise.all(wanted.map(({ key }) => commands.type(key)));
    wanted.forEach(({ key, type, role }, i) => {
      const found = types[i];
      if (found === 'none' || found === type) return;
      const fix =
        key === list
          ? `Bind another list, or rename or delete the ${found} at "${key}" (it is not a queue of this transport).`
          : `Delete or rename "${key}" (the transport keeps ${role} there), or bind another list.`;
      throw new ListConfigurationError(list, key, `key "${key}" (${role}) holds a ${found}, not a ${type} (WRONGTYPE). ${fix}`);
    });
  }
}
