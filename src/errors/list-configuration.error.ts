import { RedisStreamsError } from './redis-streams.error.js';

/** A key of a list queue cannot be used as configured (it holds another type). */
export class ListConfigurationError extends RedisStreamsError {
  constructor(
    /** The bound list. */
    readonly list: string,
    /** The key at fault: the list or one of its bookkeeping keys (as named without a keyPrefix). */
    readonly key: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`List "${list}": ${reason}`, options);
  }
}
