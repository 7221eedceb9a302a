import { RedisStreamsError } from './redis-streams.error.js';

/**
 * A `send()` got no (last) reply within `replyTimeoutMs`. The request is
 * forgotten: a reply arriving later is ignored.
 */
export class ReplyTimeoutError extends RedisStreamsError {
  /**
   * @param stream - the stream the request was written to
   * @param timeoutMs - the client's `replyTimeoutMs`
   * @param disconnectedMs - how long the connection to Redis had been lost when the time ran out, if it was
   */
  constructor(
    readonly stream: string,
    readonly timeoutMs: number,
    readonly disconnectedMs?: number,
    options?: ErrorOptions,
  ) {
    super(
      `send() to "${stream}" got no reply within ${timeoutMs} ms (replyTimeoutMs): ` +
        (disconnectedMs === undefined
          ? `no server answered in time. Check that a server with @MessagePattern("stream:${stream}") is running and keeping up.`
          : `the connection to Redis has been lost for ${disconnectedMs} ms.`),
      options,
    );
  }
}
