import type { AdminClient } from './admin-client.js';
import { numberField, replyFields, textField, timeOfId } from '../codec/reply-fields.js';
import { lagOfGroup } from '../connection/stream-figures.js';

/** A consumer of a group. */
export interface ConsumerSummary {
  readonly name: string;
  readonly pending: number;
  /** Since its last attempted interaction (a read or a claim). */
  readonly idleMs: number;
}

/** A consumer group of a stream, as `nrs groups` shows it. */
export interface GroupSummary {
  readonly stream: string;
  readonly group: string;
  readonly consumers: readonly ConsumerSummary[];
  readonly pending: number;
  /**
   * Entries not yet delivered to the group: Redis' own count (7.0 and later;
   * undefined on 6.2 or when Redis cannot tell, after deletions in the range).
   */
  readonly lag: number | undefined;
  /** How long the oldest entry not yet delivered has waited (ms), 0 when none waits. */
  readonly lagMs: number | undefined;
  readonly lastDeliveredId: string;
  readonly lastDeliveredTime: string | undefined;
}

/** Every group of a stream with its consumers, pending count and lag. */
export async function describeGroups(redis: AdminClient, stream: string, now = Date.now()): Promise<GroupSummary[]> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[];
  return Promise.all(
    groups.map(async (reply) => {
      const fields = replyFields(reply);
      const group = textField(fields, 'name') ?? '';
      const lastDeliveredId = textField(fields, 'last-delivered-id') ?? '0-0';
      const [consumers, { lag, lagMs }] = await Promise.all([
        redis.xinfo('CONSUMERS', stream, group) as Promise<unknown[]>,
        lagOfGroup(redis, stream, fields, now),
      ]);
      return {
        stream,
        group,
        consumers: consumers.map((consumer) => {
          const info = replyFields(consumer);
          return {
            name: textField(info, 'name') ?? '',
            pending: numberField(info, 'pending') ?? 0,
            idleMs: numberField(info, 'idle') ?? 0,
          };
        }),
        pending: numberField(fields, 'pending') ?? 0,
        lag,
        lagMs,
        lastDeliveredId,
        lastDeliveredTime: timeOfId(lastDeliveredId),
      };
    }),
  );
}
