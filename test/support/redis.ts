import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

/** URL of the suite's Redis (set by global setup, or given by the user). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set; run the tests through jest so global setup starts Redis.');
  return url;
}

/** A unique name per test, so tests never share streams or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A plain ioredis client for setting up and asserting on Redis state; the
 * scene ({@link useScene}) disconnects the ones it makes.
 */
export function adminClient(url = redisUrl(), options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false, ...options });
}
