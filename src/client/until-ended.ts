import type { RedisClient } from '../connection/redis-client.js';

/**
 * Resolves `true` once the client has ended (status `end`), or `false` after
 * `timeoutMs` without it.
 */
export function untilEnded(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'end') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ended: boolean): void => {
      clearTimeout(timer);
      redis.off('end', onEnd);
      resolve(ended);
    };
    const onEnd = (): void => done(true);
    const timer = setTimeout(() => done(redis.status === 'end'), timeoutMs);
    redis.on('end', onEnd);
  });
}
