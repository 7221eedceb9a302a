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
  /** The socket error's code (`ECONNREFUSED`, `ENOTFOUND`), when a socket error was the reason. */
  readonly code?: string | undefined;
}

/** Redis could not be reached, or refused us, while starting. */
export class RedisConnectionError extends RedisStreamsError {
  /** The socket error's code (`ECONNREFUSED`, `ENOTFOUND`), when a socket error was the reason, as callers test for it. */
  readonly code: string | undefined;

  constructor(
    readonly target: string,
    reason: string,
    options: RedisConnectionErrorOptions = {},
  ) {
    const { fix = DEFAULT_CONNECTION_FIX, code, ...errorOptions } = options;
    super(`Cannot connect to Redis at ${target}: ${reason}. ${fix}`, errorOptions);
    this.code = code ?? codeOf(errorOptions.cause);
  }
}

/** The `code` of a socket error (or of its cause), if it has one. */
function codeOf(error: unknown): string | undefined {
  for (let at = error, depth = 0; typeof at === 'object' && at !== null && depth < 4; depth += 1) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}
