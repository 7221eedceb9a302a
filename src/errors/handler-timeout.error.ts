import { RedisStreamsError } from './redis-streams.error.js';

/**
 * A handler ran past its stream's `handlerTimeoutMs`: the delivery counts as
 * failed (retried after the backoff delay, dead-lettered past `maxDeliveries`)
 * and the context's `signal` aborts with this error as its reason.
 */
export class HandlerTimeoutError extends RedisStreamsError {
  constructor(
    readonly stream: string,
    readonly entryId: string,
    readonly timeoutMs: number,
  ) {
    super(`Stream "${stream}": the handler of entry ${entryId} did not finish within handlerTimeoutMs (${timeoutMs} ms)`);
  }
}
