import { RedisStreamsError } from './redis-streams.error.js';

/**
 * An `emit()` got no answer from Redis within `emitTimeoutMs`.
 *
 * `written` says what became of the entry: `'no'` when the emit waited in the
 * client's queue for a connection (it is dropped, never written later);
 * `'unknown'` when the XADD was already sent when the connection dropped
 * (Redis may or may not have appended it).
 */
export class EmitTimeoutError extends RedisStreamsError {
  constructor(
    readonly target: string,
    readonly stream: string,
    readonly timeoutMs: number,
    readonly written: 'no' | 'unknown',
    options?: ErrorOptions,
  ) {
    super(
      `emit() to "${stream}" got no answer from Redis at ${target} within ${timeoutMs} ms (emitTimeoutMs); ` +
        (written === 'no'
          ? 'the entry was not written'
          : 'the XADD was sent before the connection dropped: the entry may or may not have been written'),
      options,
    );
  }
}
