import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** One startup node of a Redis Cluster. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/**
 * A Redis Cluster: some of its nodes (ioredis finds the others) and ioredis'
 * `ClusterOptions`. Settings of every node connection (username, password,
 * `tls`) go in `clusterOptions.redisOptions`.
 *
 * @example
 * ```ts
 * { cluster: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }],
 *   clusterOptions: { redisOptions: { username: 'billing', password: process.env.REDIS_PASSWORD } } }
 * ```
 */
export interface RedisClusterConnection {
  /** Startup nodes; one reachable node is enough, more survive one being down. */
  readonly cluster: readonly RedisClusterNode[];
  /**
   * ioredis' options for the cluster; `lazyConnect`, `clusterRetryStrategy`
   * and the settings the transport needs on its own connections are set over them.
   */
  readonly clusterOptions?: ClusterOptions;
}

/**
 * Where Redis is: ioredis options, a `redis://` / `rediss://` URL, a Redis
 * Cluster (`{ cluster: [...] }`), or a ready ioredis `Redis` or `Cluster`
 * instance. An instance stays yours: it is duplicated for our connections and
 * never closed by us.
 *
 * Sentinel (`sentinels` and `name`; the transport turns on `failoverDetector`
 * unless it is set), TLS (`tls`, or a `rediss://` URL for certificates the
 * system trusts) and `keyPrefix` (stream names are given without it; in Redis
 * every key carries it once) are ioredis options too.
 */
export type RedisConnection = RedisOptions | string | Redis | Cluster | RedisClusterConnection;
