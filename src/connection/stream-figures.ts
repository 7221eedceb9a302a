import { ageOfId, numberField, textField } from '../codec/reply-fields.js';
import type { RedisCommands } from './redis-client.js';

/** How far a group is behind its stream: what it has not been delivered yet. */
export interface GroupLag {
  /**
   * Entries not yet delivered to the group: Redis' own count (7.0 and later;
   * undefined on 6.2, or when Redis cannot tell after deletions in the range).
   */
  readonly lag: number | undefined;
  /** How long the oldest entry not yet delivered has waited (ms); 0 when none waits. */
  readonly lagMs: number;
}

/** A group's pending entries list (XPENDING summary). */
export interface PendingSummary {
  readonly count: number;
  /** Age of the oldest pending entry (ms since it was added); 0 when none is pending. */
  readonly oldestMs: number;
  /** Pending entries per consumer. */
  readonly byConsumer: ReadonlyArray<readonly [consumer: string, count: number]>;
}

/**
 * The lag of a group, from its XINFO GROUPS fields: Redis' `lag` field, and
 * the age of the first entry after `last-delivered-id` (one XRANGE). With
 * no such entry the lag is 0 on every version, 6.2 included.
 */
export async function lagOfGroup(redis: RedisCommands, stream: string, groupFields: Map<string, unknown>, now: number): Promise<GroupLag> {
  const lastDeliveredId = textField(groupFields, 'last-delivered-id') ?? '0-0';
  const next = await redis.xrange(stream, `(${lastDeliveredId}`, '+', 'COUNT', 1);
  const nextId = next[0]?.[0];
  const lag = numberField(groupFields, 'lag') ?? (nextId === undefined ? 0 : undefined);
  return { lag, lagMs: nextId === undefined ? 0 : (ageOfId(nextId, now) ?? 0) };
}

/** The XPENDING summary of a group: count, the oldest entry's age, per consumer. */
export async function pendingSummary(redis: RedisCommands, stream: string, group: string, now: number): Promise<PendingSummary> {
  const [count, firstId, , consumers] = (await redis.xpending(stream, group)) as [
    number,
    string | null,
    string | null,
    Array<[string, string]> | null,
  ];
  return {
    count: Number(count),
    oldestMs: count > 0 ? (ageOfId(firstId ?? undefined, now) ?? 0) : 0,
    byConsumer: (consumers ?? []).map(([consumer, n]) => [consumer, Number(n)] as const),
  };
}
