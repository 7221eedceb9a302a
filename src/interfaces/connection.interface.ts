import type { Redis, RedisOptions } from 'ioredis';

/**
 * Where Redis is: ioredis options, a `redis://` / `rediss://` URL, or an ioredis
 * instance. An instance stays yours: it is duplicated for our connections and
 * never closed by us.
 */
export type RedisConnection = RedisOptions | string | Redis;
