import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../../connection/redis-client.js';
import { ConsumerNameInUseError } from '../../errors/consumer-name-in-use.error.js';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { MissingPermissionsError, type MissingPermission } from '../../errors/missing-permissions.error.js';
import { deniedTarget } from '../../errors/redis-reply.js';
import type { MissingStreamPolicy } from '../../interfaces/server-options.interface.js';
import { keyPrefixOfClient, subcommandKey } from '../../connection/key-prefix.js';
import { prefixedKey } from '../../routing/key-prefix.js';
import type { Probe } from '../../connection/acl-probe.js';

/** What the start-up check looks at. */
export interface PreflightPlan {
  readonly group: string;
  readonly consumer: string;
  readonly missingStream: MissingStreamPolicy;
  /** Every stream bound to the group, with its dead-letter stream. */
  readonly streams: ReadonlyArray<{ readonly stream: string; readonly deadLetterStream: string }>;
  /** Every stream read by broadcast (plain XREAD, no group). */
  readonly broadcastStreams?: readonly string[];
  /** The CLIENT SETNAME names this server gives its connections; the first is the command connection's. */
  readonly connectionNames: readonly [string, ...string[]];
  /** Probes of the other delivery modes bound (list queues), checked in the same round trip. */
  readonly extraProbes?: readonly Probe[];
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
 * probed directly. On a cluster ioredis also sends CLUSTER SLOTS (its slot
 * map), CLUSTER INFO (its ready check) and ASKING (following a slot being
 * migrated); the first two it cannot connect without.
 *
 * @param subcommandKey - the key argument for XGROUP and XINFO, which ioredis 5
 *   does not prefix itself (see `connection/key-prefix.ts`)
 */
export function probes(
  plan: PreflightPlan,
  db: number | undefined,
  isClusterMode = false,
  subcommandKey: (name: string) => string = (name) => name,
): Probe[] {
  const { group, consumer } = plan;
  const list: Probe[] = [
    ...(isClusterMode
      ? [
          { acl: 'cluster|slots', args: ['CLUSTER', 'SLOTS'] },
          { acl: 'cluster|info', args: ['CLUSTER', 'INFO'] },
          // Only flags the next command of this connection (the keyless CLIENT SETNAME): nothing is redirected.
          { acl: 'asking', args: ['ASKING'] },
        ]
      : []),
    { acl: 'client|setname', args: ['CLIENT', 'SETNAME', plan.connectionNames[0]] },
    // The cluster section also tells a node of a Redis Cluster reached as one Redis.
    { acl: 'info', args: ['INFO', 'cluster'] },
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
  for (const s of plan.broadcastStreams ?? []) {
    list.push(
      { acl: 'xread', key: s, args: ['XREAD', 'COUNT', 1, 'STREAMS', s, INVALID_ID] },
      // The stream's last-generated-id: where 'latest' starts, and how a recreated stream is noticed.
      { acl: 'xinfo|stream', key: s, args: ['XINFO', 'STREAM', subcommandKey(s)] },
      { acl: 'xrange', key: s, args: ['XRANGE', s, '0-0', '0-0'] },
    );
  }
  list.push(...(plan.extraProbes ?? []));
  // Last, so that the name set above is in the list it returns.
  list.push({ acl: 'client|list', args: ['CLIENT', 'LIST', 'TYPE', 'normal'] });
  return list;
}

/** A probe's outcome: ioredis' `[error, reply]` pair, as a pipeline gives it. */
type ProbeReply = [Error | null, unknown];

/** What the probes found: one reply per probe, and each node's CLIENT LIST with the id of our connection there. */
interface ProbeReplies {
  readonly replies: readonly ProbeReply[];
  readonly clientLists: ReadonlyArray<{ readonly clientList: unknown; readonly ownId: unknown }>;
}

/**
 * Checks, before anything is created or read, that the Redis user may run
 * every command the transport needs on every key it needs, and that no other
 * live connection uses this server's consumer name. On one Redis that is one
 * round trip; on a cluster, each probe with a key goes to the node serving it
 * and those without one to every master (ACL users, CLIENT LIST and client
 * ids are per node).
 *
 * @throws MissingPermissionsError naming every missing command and key
 * @throws ConsumerNameInUseError when another live server uses the consumer name
 * @throws InvalidOptionsError when a connection for one Redis reaches a node of a cluster
 */
export async function runPreflight(client: RedisClient, plan: PreflightPlan): Promise<void> {
  const keyOf = (name: string): string => subcommandKey(client, name);
  const list = isCluster(client) ? probes(plan, undefined, true, keyOf) : probes(plan, client.options.db, false, keyOf);
  // Denied keys are named as they are in Redis, prefix included: that is what an ACL pattern matches.
  const prefix = keyPrefixOfClient(client);
  const { replies, clientLists } = isCluster(client) ? await probeCluster(client, list) : await probeRedis(client, list);
  const missing: MissingPermission[] = [];
  const seen = new Set<string>();
  replies.forEach(([error], index) => {
    const probe = list[index]!;
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
    const owner = replies
      .map(([error], index) => (deniedTarget(error) === undefined ? undefined : list[index]!.owner))
      .find((o) => o !== undefined);
    const stream =
      owner ??
      plan.streams.find(({ stream: s, deadLetterStream }) =>
        missing.some((m) => m.key === prefixedKey(prefix, s) || m.key === prefixedKey(prefix, deadLetterStream)),
      )?.stream ??
      plan.broadcastStreams?.find((s) => missing.some((m) => m.key === prefixedKey(prefix, s)));
    const first = plan.streams[0]?.stream ?? plan.broadcastStreams?.[0];
    throw new MissingPermissionsError(stream ?? first ?? '(no stream bound)', plan.group, userOf(client), missing);
  }
  if (!isCluster(client) && isClusterNode(replies[list.findIndex((probe) => probe.acl === 'info')]?.[1])) {
    throw new InvalidOptionsError(
      'connection',
      `points at a node of a Redis Cluster (INFO says cluster_enabled:1), but is not a cluster connection; that node would answer MOVED for the streams it does not serve. ` +
        `Pass the cluster instead: { cluster: [{ host, port }, ...] } or an ioredis Cluster instance.`,
    );
  }
  for (const { clientList, ownId } of clientLists) {
    const holder = otherHolder(clientList, ownId, plan.connectionNames);
    if (holder !== undefined) throw new ConsumerNameInUseError(plan.group, plan.consumer, holder);
  }
}

function isClusterNode(info: unknown): boolean {
  return typeof info === 'string' && /^cluster_enabled:1\r?$/m.test(info);
}

function userOf(client: RedisClient): string {
  return (isCluster(client) ? client.options.redisOptions?.username : client.options.username) ?? 'default';
}

/** Every probe in one pipeline on one Redis. */
async function probeRedis(redis: Redis, list: readonly Probe[]): Promise<ProbeReplies> {
  const pipeline: ChainableCommander = redis.pipeline();
  for (const probe of list) {
    const [command, ...args] = probe.args;
    pipeline.call(String(command), ...args);
  }
  const replies: ProbeReply[] = (await pipeline.exec()) ?? [];
  const ownId = replies[list.findIndex((probe) => probe.acl === 'client|id')]?.[1];
  const clientList = replies[list.findIndex((probe) => probe.acl === 'client|list')]?.[1];
  return { replies, clientLists: [{ clientList, ownId }] };
}

/**
 * On a cluster: the probes with a key through the cluster (ioredis sends each
 * to the node serving its key and follows redirects; a pipeline could not mix
 * slots), those without one in one pipeline per master, on the cluster's own
 * connection to it, which carries the command connection's name. A probe
 * counts as denied when any node denies it.
 */
async function probeCluster(cluster: Cluster, list: readonly Probe[]): Promise<ProbeReplies> {
  const keyless = list.filter((probe) => probe.key === undefined);
  const perNode = await Promise.all(cluster.nodes('master').map((node) => probeRedis(node, keyless)));
  const replies = await Promise.all(
    list.map(async (probe): Promise<ProbeReply> => {
      if (probe.key === undefined) {
        const at = keyless.indexOf(probe);
        const answers = perNode.map((node) => node.replies[at]).filter((reply): reply is ProbeReply => reply !== undefined);
        const none: ProbeReply = [null, undefined];
        return answers.find(([error]) => deniedTarget(error) !== undefined) ?? answers[0] ?? none;
      }
      const [command, ...args] = probe.args;
      return cluster.call(String(command), ...args).then(
        (reply): ProbeReply => [null, reply],
        (error: unknown): ProbeReply => [error instanceof Error ? error : new Error(String(error)), undefined],
      );
    }),
  );
  return { replies, clientLists: perNode.flatMap((node) => node.clientLists) };
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
