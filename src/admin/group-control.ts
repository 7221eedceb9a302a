import { encodeNamePart } from '../connection/connection-name.js';
import { commandsOf, nodesOf, type AdminClient } from './admin-client.js';
import { describeGroups, type ConsumerSummary } from './groups.js';
import { pendingEntries, type PendingEntry } from './pending.js';

/** Idle time given to released entries: any consumer's `claimIdleMs` has passed (ten years). */
export const RELEASED_IDLE_MS = 10 * 365 * 24 * 3_600_000;

/**
 * Pending entries a claim or release would move: the given ids, or those of
 * `from` (a consumer; any when undefined) idle at least `minIdleMs`.
 */
export async function selectPending(
  redis: AdminClient,
  stream: string,
  group: string,
  { ids, from, minIdleMs = 0, limit }: { ids?: readonly string[]; from?: string; minIdleMs?: number; limit: number },
): Promise<PendingEntry[]> {
  const entries = await pendingEntries(redis, stream, group, {
    limit: ids === undefined ? limit : Math.max(limit, 10_000),
    consumer: from,
    minIdleMs,
  });
  return ids === undefined ? entries : entries.filter((entry) => ids.includes(entry.id));
}

/**
 * Gives pending entries to `consumer` (XCLAIM … JUSTID: the delivery count is
 * kept, and the new owner reads them as its own pending entries).
 *
 * @returns the ids claimed (an entry acked or claimed meanwhile is left out)
 */
export async function claimPending(
  redis: AdminClient,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  return (await commandsOf(redis).xclaim(stream, group, consumer, 0, ...ids, 'JUSTID')) as string[];
}

/**
 * Makes pending entries claimable by any consumer of the group at once: they
 * stay with their owner, idle as long as {@link RELEASED_IDLE_MS}, so the next
 * pending scan of any live consumer claims them; the delivery count is kept.
 */
export async function releasePending(
  redis: AdminClient,
  stream: string,
  group: string,
  entries: readonly PendingEntry[],
): Promise<string[]> {
  const released: string[] = [];
  const byOwner = new Map<string, string[]>();
  for (const { id, consumer } of entries) byOwner.set(consumer, [...(byOwner.get(consumer) ?? []), id]);
  for (const [owner, ids] of byOwner) {
    released.push(...((await commandsOf(redis).xclaim(stream, group, owner, 0, ...ids, 'IDLE', RELEASED_IDLE_MS, 'JUSTID')) as string[]));
  }
  return released;
}

/**
 * The live connections of a group's servers: connections named
 * `nrs:<group>:<consumer>:<role>` on any node (CLIENT LIST).
 *
 * @returns the consumer names with a live connection
 */
export async function liveConsumers(redis: AdminClient, group: string): Promise<string[]> {
  const prefix = `nrs:${encodeNamePart(group)}:`;
  const live = new Set<string>();
  for (const node of nodesOf(redis)) {
    const list = (await node.client('LIST')) as string;
    for (const line of list.split('\n')) {
      const name = /(?:^| )name=(\S*)/.exec(line)?.[1];
      if (name === undefined || !name.startsWith(prefix)) continue;
      const consumer = name.slice(prefix.length, name.lastIndexOf(':'));
      live.add(decodeURIComponent(consumer));
    }
  }
  return [...live].sort();
}

/**
 * Moves a group's last delivered id (XGROUP SETID): entries after `toId` are
 * delivered again (or skipped, when moving forward). Pending entries stay pending.
 */
export async function resetGroup(redis: AdminClient, stream: string, group: string, toId: string): Promise<void> {
  await redis.xgroup('SETID', stream, group, toId);
}

/** Consumers of a group that own no pending entry and were idle at least `minIdleMs`, other than `keep`. */
export async function idleConsumers(redis: AdminClient, stream: string, group: string, minIdleMs: number): Promise<ConsumerSummary[]> {
  const found = (await describeGroups(redis, stream)).find((summary) => summary.group === group);
  if (found === undefined) throw new Error(`stream "${stream}" has no group "${group}"`);
  return found.consumers.filter((consumer) => consumer.pending === 0 && consumer.idleMs >= minIdleMs);
}

/**
 * Deletes a consumer if it still owns no pending entry, in one step (an entry
 * it picks up meanwhile keeps it). KEYS: [1] stream. ARGV: [1] group, [2] consumer.
 */
const DELETE_IF_IDLE = `
if redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])[1] then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** Deletes the given consumers that still own nothing; returns those deleted. */
export async function deleteConsumers(redis: AdminClient, stream: string, group: string, consumers: readonly string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const consumer of consumers) {
    if ((await redis.eval(DELETE_IF_IDLE, 1, stream, group, consumer)) === 1) deleted.push(consumer);
  }
  return deleted;
}
