import { RedisStreamsError } from './redis-streams.error.js';

/** The client was closed while this call waited for a connection. */
export class ClientClosedError extends RedisStreamsError {
  constructor(
    readonly target: string,
    operation: string,
    options?: ErrorOptions,
  ) {
    super(`${operation} failed: the client was closed before Redis at ${target} answered`, options);
  }
}
