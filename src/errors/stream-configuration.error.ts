import { RedisStreamsError } from './redis-streams.error.js';

/** A stream key cannot be used as configured (wrong type, missing permission). */
export class StreamConfigurationError extends RedisStreamsError {
  constructor(
    readonly stream: string,
    readonly group: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Stream "${stream}" (group "${group}"): ${reason}`, options);
  }
}
