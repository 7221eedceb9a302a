import { RedisStreamsError } from './redis-streams.error.js';

/** Too many emits are waiting for Redis to come back (`maxQueuedEmits`). */
export class EmitQueueFullError extends RedisStreamsError {
  constructor(
    readonly target: string,
    readonly stream: string,
    readonly limit: number,
  ) {
    super(
      `emit() to "${stream}" refused: Redis at ${target} is not connected and ${limit} emits already wait for it (maxQueuedEmits); the entry was not written`,
    );
  }
}
