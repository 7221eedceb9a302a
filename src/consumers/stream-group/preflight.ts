import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { ConsumerNameInUseError } from '../../errors/consumer-name-in-use.error.js';
import { MissingPermissionsError, type MissingPermission } from '../../errors/missing-permissions.error.js';
import { deniedTarget } from '../../errors/redis-reply.js';
import type { MissingStreamPolicy } from '../../interfaces/server-options.interface.js';
import { keyPrefixOfClient, subcommandKey } from '../../connection/key-prefix.js';
import { prefixedKey } from '../../routing/key-prefix.js';

/** What the start-up check looks at. */
export interface PreflightPlan {
  readonly group: string;
  readonly consumer: string;
  readonly missingStream: MissingStreamPolicy;
  /** Every bound stream with its dead-letter stream. */
  readonly streams: ReadonlyArray<{ readonly stream: string; readonly deadLetterStream: string }>;
  /** The CLIENT SETNAME names this server gives its connections; the first is the command connection's. */
  readonly connectionNames: readonly [string, ...string[]];
}

/** One harmless command, sent only to learn whether the ACL lets it through. */
interface Probe {
  /** The command as ACL rules name it. */
  readonly acl: string;
  /** The one key it names, if any. */
  readonly key?: string;
  readonly args: ReadonlyArray<string | number>;
}

/** Redis rejects this id before touching anything (parsing comes after the ACL check). */
const INVALID_ID = 'not-an-id';
/** No script has this SHA1, so EVALSHA answers NOSCRIPT where it is allowed. */
const NO_SCRIPT_SHA = '0'.repeat(40);

/**
 * Every command the transport sends, in a form that changes nothing (or
 * nothing that matters: EVAL runs `return 0`). Redis checks the ACL, command
 * and keys, before it runs a command, so each probe answers NOPERM exactly
 * when the real command would. Commands ioredis sends on its own count too:
 * CLIENT SETNAME (connectionName), INFO (ready check), SELECT (db), and
 * EVAL after EVALSHA's NOSCRIPT for the Lua scripts, whose inner commands
 * (XADD, XACK, XPENDING, XCLAIM, XINFO CONSUMERS, XGROUP DELCONSUMER) are
 * probed directly.
 *
 * @param subcommandKey - the key argument for XGROUP and XINFO, which ioredis 5
 *   does not prefix itself (see `connection/key-prefix.ts`)
 */
export function probes(plan: PreflightPlan, db: number | undefined, subcommandKey: (name: string) => string = (name) => name): Probe[] {
  const { group, consumer } = plan;
  const list: Probe[] = [
    { acl: 'client|setname', args: ['CLIENT', 'SETNAME', plan.connectionNames[0]] },
    { acl: 'info', args: ['INFO', 'server'] },
    ...(db ? [{ acl: 'select', args: ['SELECT', db] }] : []),
    { acl: 'client|id', args: ['CLIENT', 'ID'] },
    // Client ids start at 1: nothing to unblock.
    { acl: 'client|unblock', args: ['CLIENT', 'UNBLOCK', 0] },
  ];
  const noSuchGroup = `nrs-preflight-${randomUUID()}`;
  for (const { stream: s, deadLetterStream: dlq } of plan.streams) {
    const onStream = (acl: string, ...args: Array<string | number>): Probe => ({ acl, key: s, args });
    const sub = subcommandKey(s);
    if (plan.missingStream === 'wait') list.push(onStream('type', 'TYPE', s));
    list.push(
      onStream('xgroup|create', 'XGROUP', 'CREATE', sub, group, INVALID_ID, 'MKSTREAM'),
      onStream('xinfo|groups', 'XINFO', 'GROUPS', sub),
      onStream('xinfo|consumers', 'XINFO', 'CONSUMERS', sub, group),
      onStream('xgroup|delconsumer', 'XGROUP', 'DELCONSUMER', sub, noSuchGroup, consumer),
      onStream('xreadgroup', 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', s, INVALID_ID),
      onStream('xpending', 'XPENDING', s, group),
      // 0-0 is never pending: nothing is claimed.
      onStream('xclaim', 'XCLAIM', s, group, consumer, 0, '0-0', 'JUSTID'),
      onStream('xack', 'XACK', s, group, '0-0'),
      // Entries holding bytes that are not UTF-8 are read again as bytes with XRANGE.
      onStream('xrange', 'XRANGE', s, '0-0', '0-0'),
    );
    for (const key of [s, dlq]) {
      list.push(
        { acl: 'evalsha', key, args: ['EVALSHA', NO_SCRIPT_SHA, 1, key] },
        { acl: 'eval', key, args: ['EVAL', 'return 0', 1, key] },
      );
    }
    // XADD refuses the id 0-0 before writing (and NOMKSTREAM would not create the key).
    list.push({ acl: 'xadd', key: dlq, args: ['XADD', dlq, 'NOMKSTREAM', '0-0', 'f', 'v'] });
  }
  // Last, so that the name set above is in the list it returns.
  list.push({ acl: 'client|list', args: ['CLIENT', 'LIST', 'TYPE', 'normal'] });
  return list;
}

/**
 * Checks in one round trip, before anything is created or read, that the
 * Redis user may run every command the transport needs on every key it needs,
 * and that no other live connection uses this server's consumer name.
 *
 * @throws MissingPermissionsError naming every missing command and key
 * @throws ConsumerNameInUseError when another live server uses the consumer name
 */
export async function runPreflight(redis: Redis, plan: PreflightPlan): Promise<void> {
  const list = probes(plan, redis.options.db, (name) => subcommandKey(redis, name));
  // Denied keys are named as they are in Redis, prefix included: that is what an ACL pattern matches.
  const prefix = keyPrefixOfClient(redis);
  const pipeline: ChainableCommander = redis.pipeline();
  for (const probe of list) {
    const [command, ...args] = probe.args;
    pipeline.call(String(command), ...args);
  }
  const replies = (await pipeline.exec()) ?? [];
  const missing: MissingPermission[] = [];
  const seen = new Set<string>();
  let ownId: unknown;
  let clientList: unknown;
  replies.forEach(([error, reply], index) => {
    const probe = list[index]!;
    if (probe.acl === 'client|id') ownId = reply;
    if (probe.acl === 'client|list') clientList = reply;
    const target = deniedTarget(error);
    if (target === undefined) return;
    const denial: MissingPermission =
      target === 'command' || probe.key === undefined
        ? { command: probe.acl }
        : { command: probe.acl, key: prefixedKey(prefix, probe.key) };
    const id = `${denial.command} ${denial.key ?? ''}`;
    if (seen.has(id)) return;
    seen.add(id);
    missing.push(denial);
  });
  if (missing.length > 0) {
    const stream = plan.streams.find(({ stream: s, deadLetterStream }) =>
      missing.some((m) => m.key === prefixedKey(prefix, s) || m.key === prefixedKey(prefix, deadLetterStream)),
    )?.stream;
    throw new MissingPermissionsError(
      stream ?? plan.streams[0]?.stream ?? '(no stream bound)',
      plan.group,
      redis.options.username ?? 'default',
      missing,
    );
  }
  const holder = otherHolder(clientList, ownId, plan.connectionNames);
  if (holder !== undefined) throw new ConsumerNameInUseError(plan.group, plan.consumer, holder);
}

/** The CLIENT LIST row of another connection carrying one of `names`, described for an error. */
function otherHolder(clientList: unknown, ownId: unknown, names: readonly string[]): string | undefined {
  if (typeof clientList !== 'string') return undefined;
  const wanted = new Set(names);
  for (const line of clientList.split('\n')) {
    const fields = new Map<string, string>();
    for (const pair of line.trim().split(' ')) {
      const at = pair.indexOf('=');
      if (at > 0) fields.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const name = fields.get('name');
    if (name === undefined || !wanted.has(name) || fields.get('id') === String(ownId)) continue;
    return `CLIENT LIST: id=${fields.get('id')} addr=${fields.get('addr')} name=${name} idle=${fields.get('idle')}s`;
  }
  return undefined;
}
