import type { AdminClient } from './admin-client.js';

/** One pending entry. */
export interface PendingEntry {
  readonly id: string;
  readonly consumer: string;
  readonly idleMs: number;
  readonly deliveries: number;
}

/** A group's pending entries list, summed up. */
export interface PendingReport {
  readonly stream: string;
  readonly group: string;
  readonly count: number;
  readonly firstId: string | undefined;
  readonly lastId: string | undefined;
  /** Pending entries per consumer, most first. */
  readonly byConsumer: ReadonlyArray<{ readonly consumer: string; readonly count: number }>;
  /** The oldest pending entries (by id), at most `limit`. */
  readonly oldest: readonly PendingEntry[];
}

/** The XPENDING summary of a group and its `limit` oldest pending entries. */
export async function pendingReport(redis: AdminClient, stream: string, group: string, limit = 10): Promise<PendingReport> {
  const [summary, entries] = await Promise.all([
    redis.xpending(stream, group) as Promise<[number, string | null, string | null, Array<[string, string]> | null]>,
    pendingEntries(redis, stream, group, { limit }),
  ]);
  const [count, firstId, lastId, consumers] = summary;
  return {
    stream,
    group,
    count,
    firstId: firstId ?? undefined,
    lastId: lastId ?? undefined,
    byConsumer: (consumers ?? []).map(([consumer, n]) => ({ consumer, count: Number(n) })).sort((a, b) => b.count - a.count),
    oldest: entries,
  };
}

/** Pending entries of a group, oldest first: of one consumer, idle at least `minIdleMs`, at most `limit`. */
export async function pendingEntries(
  redis: AdminClient,
  stream: string,
  group: string,
  { limit, consumer, minIdleMs }: { limit: number; consumer?: string; minIdleMs?: number },
): Promise<PendingEntry[]> {
  const idle = minIdleMs === undefined ? [] : ['IDLE', minIdleMs];
  const args: Array<string | number> = [...idle, '-', '+', limit, ...(consumer === undefined ? [] : [consumer])];
  const rows = (await redis.call('XPENDING', stream, group, ...args)) as Array<[string, string, number, number]>;
  return rows.map(([id, owner, idleMs, deliveries]) => ({ id, consumer: owner, idleMs: Number(idleMs), deliveries: Number(deliveries) }));
}
