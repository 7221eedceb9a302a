import type { Redis } from 'ioredis';

/**
 * Resolves `true` once the client has ended (status `end`), or `false` after
 * `timeoutMs` without it.
 */
export function untilEnded(redis: Redis, timeoutMs: number): Promise<boolean> {
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
