import { RedisStreamsError } from './redis-streams.error.js';

/** What {@link RedisConnectionError} says to do when it knows no better. */
const DEFAULT_CONNECTION_FIX = 'Check that redis-server is running and that "connection" points at it.';

/** Options of {@link RedisConnectionError}. */
export interface RedisConnectionErrorOptions extends ErrorOptions {
  /**
   * What the user should do, when the cause is known (wrong password, client limit).
   *
   * @defaultValue check that redis-server is running and that "connection" points at it
   */
  readonly fix?: string;
}

/** Redis could not be reached, or refused us, while starting. */
export class RedisConnectionError extends RedisStreamsError {
  constructor(
    readonly target: string,
    reason: string,
    options: RedisConnectionErrorOptions = {},
  ) {
    const { fix = DEFAULT_CONNECTION_FIX, ...errorOptions } = options;
    super(`Cannot connect to Redis at ${target}: ${reason}. ${fix}`, errorOptions);
  }
}
