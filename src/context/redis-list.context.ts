import { LIST_ENTRY_FIELD } from '../constants.js';
import type { FieldValue } from '../codec/stream-codec.js';
import { RedisStreamsContext, type EntryControl } from './redis-streams.context.js';

/** What a list entry's context is built from. */
export interface ListEntryFacts {
  readonly list: string;
  /** The entry as it was pushed, byte for byte. */
  readonly entry: Buffer;
  /** The server's group (list queues have none of their own; it names the app). */
  readonly group: string;
  readonly consumer: string;
  readonly deliveries: number;
  readonly control: EntryControl;
  readonly pattern: string;
  readonly metadata: Record<string, unknown> | undefined;
}

/**
 * The handler's view of a list queue entry (`@EventPattern('list:jobs')`). It
 * is a {@link RedisStreamsContext}, so code written for stream handlers works
 * with it, where:
 *
 * - `getStream()` and {@link getList} give the list key (`jobs`);
 * - `getMessageId()` is `''`: list entries have no id (the value itself,
 *   {@link getEntry}, is what identifies a job);
 * - `getFields()` is `{ 'list-entry': <the value> }` and `getRawFields()` its
 *   bytes, as in the entry's dead letter;
 * - `getGroup()` is the server's `group` (the list is shared by every consumer
 *   of every group that binds it);
 * - `getDeliveryCount()` counts deliveries of this entry: 1 on the first,
 *   one more after each retry and after each recovery from a consumer that died.
 *
 * `ack()`, `retry(delayMs?)` and `deadLetter(reason)` behave as on streams
 * (removal from the processing list, a hand-back after the delay, the
 * dead-letter stream).
 *
 * @example
 * ```ts
 * @EventPattern<string>('list:jobs')
 * async onJob(@Payload() job: Job, @Ctx() ctx: RedisListContext) {
 *   if (ctx.getDeliveryCount() > 3) await ctx.deadLetter('gave up');
 * }
 * ```
 */
export class RedisListContext extends RedisStreamsContext {
  private readonly entry: Buffer;

  constructor(facts: ListEntryFacts) {
    const flat: FieldValue[] = [LIST_ENTRY_FIELD, facts.entry];
    super([facts.list, '', flat, facts.group, facts.consumer, facts.deliveries, facts.control, undefined, facts.pattern, facts.metadata]);
    this.entry = facts.entry;
  }

  /** The list key (the pattern without `list:`). */
  getList(): string {
    return this.getStream();
  }

  /** The entry as it was pushed, byte for byte (our client's entries in their encoded form). */
  getEntry(): Buffer {
    return this.entry;
  }
}
