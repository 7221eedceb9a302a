import { RedisStreamsError } from './redis-streams.error.js';

/** An option is missing or has a value the transport cannot work with. */
export class InvalidOptionsError extends RedisStreamsError {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`Invalid option "${option}": ${reason}`);
  }
}
