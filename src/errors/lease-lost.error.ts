import { RedisStreamsError } from './redis-streams.error.js';

/**
 * An entry being handled is no longer this consumer's. On a consumer-group
 * stream: it is no longer pending on this consumer (another consumer claimed
 * it because its lease was not renewed within `claimIdleMs`, for example
 * while the event loop was blocked or Redis out of reach, or an operator
 * claimed, acknowledged or reset it). On a list queue: this consumer's
 * liveness key expired and another consumer recovered its processing list.
 * The context's `signal` aborts with this error as its reason; whatever the
 * handler then does, this consumer neither acknowledges, retries nor
 * dead-letters the entry: it is its new owner's.
 */
export class LeaseLostError extends RedisStreamsError {
  /**
   * @param stream - the stream, or the list of a list queue
   * @param entryId - the entry id; undefined for a list entry (it has none)
   */
  constructor(
    readonly stream: string,
    readonly group: string,
    readonly entryId: string | undefined,
  ) {
    const what =
      entryId === undefined
        ? `List "${stream}": an entry being handled was recovered by another consumer (this consumer's liveness key expired)`
        : `Stream "${stream}" group "${group}": entry ${entryId} is no longer pending on this consumer (claimed by another consumer or by an operator) while its handler ran`;
    super(
      `${what}; this consumer leaves it to its new owner. If handlers run long, raise claimIdleMs, and keep the event loop free so that leases are renewed.`,
    );
  }
}
