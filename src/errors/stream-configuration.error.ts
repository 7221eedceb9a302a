import { describeError } from './describe-error.js';
import { redactError } from './redact.js';
import { redisReplyKind } from './redis-reply.js';
import { RedisStreamsError } from './redis-streams.error.js';

/** A stream key cannot be used as configured (wrong type, missing permission). */
export class StreamConfigurationError extends RedisStreamsError {
  /**
   * @param group - the consumer group reading the stream; `''` for a broadcast reader, which has none
   */
  constructor(
    readonly stream: string,
    readonly group: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Stream "${stream}" (${group === '' ? 'broadcast' : `group "${group}"`}): ${reason}`, options);
  }
}

/**
 * Turns WRONGTYPE / NOPERM replies into an error that names the key and the fix.
 *
 * @param group - `''` for a broadcast reader
 */
export function asConfigurationError(error: unknown, stream: string, group: string): StreamConfigurationError {
  if (redisReplyKind(error) === 'WRONGTYPE') {
    return new StreamConfigurationError(
      stream,
      group,
      'key holds another type, not a stream (WRONGTYPE). Rename the key or bind the handler to another stream.',
      { cause: redactError(error, stream) },
    );
  }
  return new StreamConfigurationError(
    stream,
    group,
    `permission denied (${describeError(error)}). Grant the Redis user the commands and keys of the README's "Redis ACL" section.`,
    { cause: redactError(error, stream) },
  );
}
