import { RedisStreamsError } from './redis-streams.error.js';

/**
 * An entry being handled is no longer pending on this consumer: another
 * consumer claimed it (its lease was not renewed within `claimIdleMs`, for
 * example while the event loop was blocked or Redis out of reach), or an
 * operator claimed, acknowledged or reset it. The context's `signal` aborts
 * with this error as its reason; whatever the handler then does, this
 * consumer neither acknowledges, retries nor dead-letters the entry: it is
 * its new owner's.
 */
export class LeaseLostError extends RedisStreamsError {
  constructor(
    readonly stream: string,
    readonly group: string,
    readonly entryId: string,
  ) {
    super(
      `Stream "${stream}" group "${group}": entry ${entryId} is no longer pending on this consumer (claimed by another consumer or by an operator) while its handler ran; this consumer leaves it to its new owner. If handlers run long, raise claimIdleMs, and keep the event loop free so that leases are renewed.`,
    );
  }
}
