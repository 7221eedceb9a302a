import { describeError } from '../errors/describe-error.js';
import { redactError } from '../errors/redact.js';
import { RedisConnectionError } from '../errors/redis-connection.error.js';
import { connectionRefusal } from '../errors/redis-reply.js';

/** Raised when `connectTimeoutMs` passes before a client is ready. */
export class ConnectTimeout extends Error {
  constructor(timeoutMs: number, hint = '') {
    super(`no answer within ${timeoutMs} ms (connectTimeoutMs)${hint}`);
    this.name = new.target.name;
  }
}

/** Whether an error is a Redis error reply (ioredis types its ReplyError class as any; its instances are named). */
export function isReplyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'ReplyError';
}

/**
 * The error a failed start-up connection ends with: what went wrong at
 * `target` and what to fix, without the handshake's arguments.
 *
 * @param error - what the connection attempt failed with
 * @param refusal - the most telling error seen on the way (a Redis reply beats a socket error)
 */
export function connectionError(target: string, error: unknown, refusal: unknown): RedisConnectionError {
  const cause = redactError(refusal);
  const reason = refusal === error ? describeError(cause) : `${describeError(error)} (${describeError(cause)})`;
  switch (connectionRefusal(refusal)) {
    case 'client-limit':
      return clientLimitError(target, refusal);
    case 'credentials':
      return new RedisConnectionError(target, `Redis refused the credentials (${describeError(cause)})`, {
        cause,
        fix: 'Check the username and password in "connection": the Redis user must exist, be enabled ("on") and have that password (ACL LIST shows the users).',
      });
    case 'permission':
      return new RedisConnectionError(
        target,
        `the Redis user may not run a command of the connection handshake (${describeError(cause)})`,
        {
          cause,
          fix: 'Grant the user the commands the README\'s "Redis ACL" section lists (on a cluster, also those of "Redis Cluster").',
        },
      );
    default:
      return new RedisConnectionError(target, reason, { cause });
  }
}

/** Redis took no more connections (maxclients). */
export function clientLimitError(target: string, refusal: unknown): RedisConnectionError {
  return new RedisConnectionError(target, 'Redis refused the connection because its client limit (maxclients) is reached', {
    cause: redactError(refusal),
    fix:
      'Raise the limit (CONFIG SET maxclients <n>, or maxclients in redis.conf; it is also capped by the open-file limit, ulimit -n), ' +
      'or close connections nobody needs (CLIENT LIST shows them; INFO clients counts them). ' +
      'Each RedisStreamsServer opens two connections (one more per further group of streams with other read settings, and on a cluster one per hash slot it reads; see unwrap()); each RedisStreamsClient opens one.',
  });
}
