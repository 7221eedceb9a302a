import { RedisStreamsError } from './redis-streams.error.js';

/**
 * A `send()` to a stream that no server reads: the stream has no consumer
 * group (or does not exist), so the request would never be answered.
 */
export class NoResponderError extends RedisStreamsError {
  constructor(
    readonly stream: string,
    options?: ErrorOptions,
  ) {
    super(
      `send() to "${stream}" failed at once: the stream has no consumer group, so no server reads it. ` +
        `Start a server with a @MessagePattern("stream:${stream}") handler first.`,
      options,
    );
  }
}
