import { BaseRpcContext } from '@nestjs/microservices';
import { toBytes, toFieldMap, type FieldValue, type StreamFields } from '../codec/stream-codec.js';

/** What a handler can decide about its entry, beyond resolving or throwing. */
export interface EntryControl {
  /** Acknowledge now; resolves once Redis has confirmed the XACK. */
  ack(): Promise<void>;
  /**
   * Deliver again after `delayMs` (capped at `retry.maxDelayMs`), to any
   * consumer of the group; without it, after the backoff delay.
   */
  retry(delayMs?: number): Promise<void>;
  /** Move to the dead-letter stream now, with `reason` as the last error. */
  deadLetter(reason: string): Promise<void>;
  /** Keep the handler's original error (Nest's exception layer replaces it). */
  recordError(error: unknown): void;
  /** Aborted when the handler should stop (see {@link RedisStreamsContext.signal}). */
  readonly signal: AbortSignal;
}

/** The arguments a context is built from (internal; the getters read them). */
export type RedisStreamsContextArgs = [
  stream: string,
  messageId: string,
  // The flat list as Redis stores it (text as strings, other bytes as Buffers).
  flat: readonly FieldValue[],
  group: string,
  consumer: string,
  deliveryCount: number,
  control: EntryControl,
  // The field map when the handler got it as its payload; built on demand otherwise.
  fields: StreamFields | undefined,
  pattern: string,
  // Our envelope's metadata (set by the client's dispatch hook), decoded.
  metadata: Record<string, unknown> | undefined,
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
  /** The stream key (the pattern without `stream:`). */
  getStream(): string {
    return this.args[0];
  }

  /** The entry id, e.g. `1700000000000-0`. With the stream, a natural idempotency key. */
  getMessageId(): string {
    return this.args[1];
  }

  /**
   * The entry's field map: values that are valid UTF-8 as strings, others as
   * Buffers. A field name that is not UTF-8 shows with U+FFFD in it here;
   * {@link getRawFields} has its bytes.
   */
  getFields(): StreamFields {
    this.args[7] ??= toFieldMap(this.args[2]);
    return this.args[7];
  }

  /** Every field of the entry as `[name, value]` Buffers, byte for byte and in order, duplicates included. */
  getRawFields(): Array<[name: Buffer, value: Buffer]> {
    const flat = this.args[2];
    const pairs: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      pairs.push([toBytes(flat[i] as FieldValue), toBytes(flat[i + 1] as FieldValue)]);
    }
    return pairs;
  }

  /** The pattern the handler is bound to, e.g. `stream:orders`. */
  getPattern(): string {
    return this.args[8];
  }

  /**
   * The metadata the producing client's dispatch hook set on the entry,
   * decoded; an empty object when it set none or another producer wrote the entry.
   */
  getMetadata(): Record<string, unknown> {
    return this.args[9] ?? {};
  }

  /** The consumer group reading the stream; `''` for a broadcast handler (`{ broadcast: true }`), which reads without one. */
  getGroup(): string {
    return this.args[3];
  }

  /** This consumer's name inside the group (for a broadcast handler, the server's `consumer` option: which instance this is). */
  getConsumer(): string {
    return this.args[4];
  }

  /** Redis' delivery counter for the entry: 1 on the first delivery; always 1 for a broadcast handler. */
  getDeliveryCount(): number {
    return this.args[5];
  }

  /**
   * Acknowledges the entry now, whatever the handler does next. Resolves once
   * Redis has confirmed the XACK (it travels with the other acks of this turn);
   * rejects if the server closes before it could be sent, and the entry is
   * then delivered again. For a broadcast handler, resolves at once: nothing
   * is acknowledged.
   */
  ack(): Promise<void> {
    return this.args[6].ack();
  }

  /**
   * Leaves the entry unacknowledged and has it delivered again after `delayMs`.
   *
   * @param delayMs - milliseconds, capped at the stream's `retry.maxDelayMs`;
   *   without it, the backoff delay a failure on this delivery would get
   * @throws RangeError (as a rejection) when `delayMs` is not a number >= 0
   * @throws NotSupportedError (as a rejection) for a broadcast handler: broadcast reads are at most once per instance
   */
  retry(delayMs?: number): Promise<void> {
    return this.args[6].retry(delayMs);
  }

  /**
   * Moves the entry to the dead-letter stream now.
   *
   * @param reason - stored as the dead-letter entry's last error
   * @throws NotSupportedError (as a rejection) for a broadcast handler, which has no dead-letter stream
   */
  deadLetter(reason: string): Promise<void> {
    return this.args[6].deadLetter(reason);
  }

  /**
   * Aborted when the handler should give up: its time limit
   * (`handlerTimeoutMs`) passed, and the delivery counts as failed; or the
   * server closed before it finished (`shutdownTimeoutMs`) and released its
   * entry to the group (a list queue: left in the processing list for
   * recovery). Pass it to `fetch`, database drivers and anything that takes
   * one; its `reason` says why. Never aborted for a broadcast handler.
   */
  get signal(): AbortSignal {
    return this.args[6].signal;
  }

  /**
   * Records the handler's original error for logs and dead letters; called by
   * {@link RedisStreamsExceptionFilter}.
   */
  recordError(error: unknown): void {
    this.args[6].recordError(error);
  }
}
