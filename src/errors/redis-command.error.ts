import { RedisStreamsError } from './redis-streams.error.js';

/**
 * A Redis command failed. Carries the command's name, the key it worked on
 * and Redis' reply text, never the command's other arguments: those hold
 * passwords (AUTH, HELLO) and payloads (XADD).
 */
export class RedisCommandError extends RedisStreamsError {
  constructor(
    readonly command: string,
    readonly key: string | undefined,
    readonly reply: string,
  ) {
    super(`${command.toUpperCase()}${key === undefined ? '' : ` on "${key}"`} failed: ${reply}`);
  }
}
