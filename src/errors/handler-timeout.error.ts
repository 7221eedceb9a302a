import { RedisStreamsError } from './redis-streams.error.js';

/**
 * A handler ran past its stream's `handlerTimeoutMs`: the delivery counts as
 * failed (retried after the backoff delay, dead-lettered past `maxDeliveries`)
 * and the context's `signal` aborts with this error as its reason.
 */
export class HandlerTimeoutError extends RedisStreamsError {
  /**
   * @param stream - the stream, or the list of a list queue
   * @param entryId - the entry id; undefined for a list entry (it has none)
   */
  constructor(
    readonly stream: string,
    readonly entryId: string | undefined,
    readonly timeoutMs: number,
  ) {
    const source =
      entryId === undefined ? `List "${stream}": the handler of an entry` : `Stream "${stream}": the handler of entry ${entryId}`;
    super(`${source} did not finish within handlerTimeoutMs (${timeoutMs} ms)`);
  }
}
