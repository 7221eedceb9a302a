import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RedisClusterConnection, RedisClusterNode, RedisConnection } from '../interfaces/connection.interface.js';
import { describeValue, isPlainObject, onlyKnownKeys } from './validate-shape.js';

const CLUSTER_KEYS = ['cluster', 'clusterOptions'] as const satisfies ReadonlyArray<keyof RedisClusterConnection>;

/**
 * Checks the `connection` option: ioredis options, a URL, a cluster
 * description or an ioredis `Redis` or `Cluster` instance. Without one,
 * server and client connect to `localhost:6379`.
 *
 * @throws InvalidOptionsError for anything else
 */
export function connectionOption(value: unknown): RedisConnection {
  if (value === undefined) return { host: DEFAULT_REDIS_HOST, port: DEFAULT_REDIS_PORT };
  if (typeof value === 'string' && value.length > 0) return value;
  if (isClusterInstance(value)) return value;
  if (isRedisInstance(value)) return value;
  if (isPlainObject(value)) return 'cluster' in value ? clusterConnection(value) : value;
  throw new InvalidOptionsError(
    'connection',
    `must be ioredis options, a redis:// URL or an ioredis instance (Redis or Cluster), or a cluster ({ cluster: [{ host, port }, ...] }), got ${describeValue(value)}`,
  );
}

/**
 * Whether a checked `connection` is a Redis Cluster: a `{ cluster: [...] }`
 * description or a `Cluster` instance.
 */
export function isClusterConnection(connection: RedisConnection): connection is Cluster | RedisClusterConnection {
  return isClusterInstance(connection) || (isPlainObject(connection) && 'cluster' in connection);
}

/**
 * The `keyPrefix` ioredis puts before every key of a cluster connection
 * (ioredis takes it from `clusterOptions`, else from its `redisOptions`).
 */
export function clusterKeyPrefix(connection: Cluster | RedisClusterConnection): string {
  const options = isClusterInstance(connection) ? connection.options : connection.clusterOptions;
  return options?.keyPrefix ?? options?.redisOptions?.keyPrefix ?? '';
}

/**
 * An ioredis `Cluster`, told by its shape so that this pure module needs no
 * runtime import of ioredis (and accepts a client from another copy of it):
 * ioredis marks its clusters with `isCluster`.
 */
export function isClusterInstance(value: unknown): value is Cluster {
  return isClient(value) && (value as { isCluster?: unknown }).isCluster === true;
}

/** An ioredis `Redis` client, told by its shape (see {@link isClusterInstance}). */
function isRedisInstance(value: unknown): value is Redis {
  return isClient(value) && (value as { isCluster?: unknown }).isCluster !== true;
}

function isClient(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { duplicate?: unknown }).duplicate === 'function' &&
    typeof (value as { options?: unknown }).options === 'object'
  );
}

function clusterConnection(value: Record<string, unknown>): RedisClusterConnection {
  onlyKnownKeys(
    'connection.',
    value,
    CLUSTER_KEYS,
    ' Settings of the node connections (username, password, tls) go under "connection.clusterOptions.redisOptions".',
  );
  const { cluster, clusterOptions } = value;
  if (!Array.isArray(cluster) || cluster.length === 0) {
    throw new InvalidOptionsError(
      'connection.cluster',
      `must list at least one node, e.g. [{ host: '10.0.0.1', port: 7000 }], got ${describeValue(cluster)}`,
    );
  }
  const nodes = cluster.map((node: unknown, index): RedisClusterNode => clusterNode(node, index));
  if (clusterOptions !== undefined && !isPlainObject(clusterOptions)) {
    throw new InvalidOptionsError(
      'connection.clusterOptions',
      `must be ioredis ClusterOptions such as { redisOptions: { password } }, got ${describeValue(clusterOptions)}`,
    );
  }
  return clusterOptions === undefined ? { cluster: nodes } : { cluster: nodes, clusterOptions };
}

function clusterNode(node: unknown, index: number): RedisClusterNode {
  const option = `connection.cluster[${index}]`;
  if (!isPlainObject(node)) {
    throw new InvalidOptionsError(option, `must be { host, port }, got ${describeValue(node)}`);
  }
  onlyKnownKeys(
    `${option}.`,
    node,
    ['host', 'port'],
    ' Settings of the node connections go under "connection.clusterOptions.redisOptions".',
  );
  const { host, port } = node;
  if (typeof host !== 'string' || host.length === 0) {
    throw new InvalidOptionsError(`${option}.host`, `must be a host name or address, got ${describeValue(host)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidOptionsError(`${option}.port`, `must be a port number (1-65535), got ${describeValue(port)}`);
  }
  return { host, port };
}
