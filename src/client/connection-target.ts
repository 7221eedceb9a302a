import { Redis } from 'ioredis';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { describeTarget } from '../connection/redis-connection.js';

/**
 * Where a connection setting points, without credentials, for errors raised
 * before an ioredis client exists.
 */
export function describeConnection(connection: RedisConnection): string {
  if (connection instanceof Redis) return describeTarget(connection);
  if (typeof connection === 'string') {
    if (!URL.canParse(connection)) return 'the configured address';
    const url = new URL(connection);
    return url.hostname === '' ? url.pathname : `${url.hostname}:${url.port === '' ? '6379' : url.port}`;
  }
  return connection.path ?? `${connection.host ?? 'localhost'}:${connection.port ?? 6379}`;
}

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
