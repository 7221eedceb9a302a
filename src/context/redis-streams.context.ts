import { BaseRpcContext } from '@nestjs/microservices';
import { toFieldMap, type StreamFields } from '../codec/stream-codec.js';

function isFlatList(fields: StreamFields | readonly string[]): fields is readonly string[] {
  return Array.isArray(fields);
}

/** What a handler can decide about its entry, beyond resolving or throwing. */
export interface EntryControl {
  /** Acknowledge now; the handler's outcome no longer matters. */
  ack(): Promise<void>;
  /** Deliver again after `delayMs` (capped at `retry.maxDelayMs`), to any consumer of the group. */
  retry(delayMs: number): Promise<void>;
  /** Move to the dead-letter stream now, with `reason` as the last error. */
  deadLetter(reason: string): Promise<void>;
  /** Keep the handler's original error (Nest's exception layer replaces it). */
  recordError(error: unknown): void;
}

type RedisStreamsContextArgs = [
  stream: string,
  messageId: string,
  // The flat list as Redis returned it; the map is built when first asked for.
  fields: StreamFields | readonly string[],
  group: string,
  consumer: string,
  deliveryCount: number,
  control: EntryControl,
];

/**
 * The handler's view of the entry it is handling.
 *
 * @example
 * ```ts
 * @EventPattern('stream:orders')
 * onOrder(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext) {
 *   this.logger.log(`order ${ctx.getMessageId()} try ${ctx.getDeliveryCount()}`);
 * }
 * ```
 */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  private fieldMap: StreamFields | undefined;

  /** The stream key (the pattern without `stream:`). */
  getStream(): string {
    return this.args[0];
  }

  /** The entry id, e.g. `1700000000000-0`. With the stream, a natural idempotency key. */
  getMessageId(): string {
    return this.args[1];
  }

  /** The entry's raw field map, exactly as stored in Redis. */
  getFields(): StreamFields {
    const fields = this.args[2];
    if (!isFlatList(fields)) return fields;
    this.fieldMap ??= toFieldMap(fields);
    return this.fieldMap;
  }

  /** The consumer group reading the stream. */
  getGroup(): string {
    return this.args[3];
  }

  /** This consumer's name inside the group. */
  getConsumer(): string {
    return this.args[4];
  }

  /** Redis' delivery counter for the entry: 1 on the first delivery. */
  getDeliveryCount(): number {
    return this.args[5];
  }

  /** Acknowledges the entry now, whatever the handler does next. */
  ack(): Promise<void> {
    return this.args[6].ack();
  }

  /**
   * Leaves the entry unacknowledged and has it delivered again after `delayMs`.
   *
   * @param delayMs - at most the stream's `retry.maxDelayMs`
   */
  retry(delayMs: number): Promise<void> {
    return this.args[6].retry(delayMs);
  }

  /**
   * Moves the entry to the dead-letter stream now.
   *
   * @param reason - stored as the dead-letter entry's last error
   */
  deadLetter(reason: string): Promise<void> {
    return this.args[6].deadLetter(reason);
  }

  /**
   * Records the handler's original error for logs and dead letters; called by
   * {@link RedisStreamsExceptionFilter}.
   */
  recordError(error: unknown): void {
    this.args[6].recordError(error);
  }
}
