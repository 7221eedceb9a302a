import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { describeValue, isPlainObject } from './validate-shape.js';

/**
 * Checks the `connection` option: ioredis options, a URL or an ioredis instance.
 * Without one, server and client connect to `localhost:6379`.
 *
 * @throws InvalidOptionsError for anything else
 */
export function connectionOption(value: unknown): RedisConnection {
  if (value === undefined) return { host: DEFAULT_REDIS_HOST, port: DEFAULT_REDIS_PORT };
  if (typeof value === 'string' && value.length > 0) return value;
  if (isRedisInstance(value)) return value;
  if (isPlainObject(value)) return value;
  throw new InvalidOptionsError(
    'connection',
    `must be ioredis options, a redis:// URL or an ioredis instance ({ host, port }, 'rediss://…' or new Redis()), got ${describeValue(value)}`,
  );
}

/**
 * An ioredis client, told by its shape so that this pure module needs no
 * runtime import of ioredis (and accepts a client from another copy of it).
 */
function isRedisInstance(value: unknown): value is Redis {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { duplicate?: unknown }).duplicate === 'function' &&
    typeof (value as { options?: unknown }).options === 'object'
  );
}
