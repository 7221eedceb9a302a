import type { Redis, RedisOptions } from 'ioredis';

/**
 * Where Redis is: ioredis options, a `redis://` / `rediss://` URL, or an ioredis
 * instance. An instance stays yours: it is duplicated for our connections and
 * never closed by us.
 *
 * Sentinel (`sentinels` and `name`; the transport turns on `failoverDetector`
 * unless it is set), TLS (`tls`, or a `rediss://` URL for certificates the
 * system trusts) and `keyPrefix` (stream names are given without it; in Redis
 * every key carries it once) are ioredis options too.
 */
export type RedisConnection = RedisOptions | string | Redis;
