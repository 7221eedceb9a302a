import { Redis } from 'ioredis';
import { DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT } from '../constants.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { isClusterInstance } from '../options/connection-option.js';
import { describeCluster } from './cluster-connection.js';
import { isCluster, type RedisClient } from './redis-client.js';

/** Where a client points, without credentials, for messages. */
export function describeTarget(client: RedisClient): string {
  return isCluster(client) ? describeCluster(client) : describeAddress(client.options);
}

/**
 * Where a connection setting points, without credentials, for errors raised
 * before an ioredis client exists.
 */
export function describeConnection(connection: RedisConnection): string {
  if (isClusterInstance(connection)) return describeCluster(connection);
  if (connection instanceof Redis) return describeTarget(connection);
  if (typeof connection === 'string') {
    if (!URL.canParse(connection)) return 'the configured address';
    const url = new URL(connection);
    return url.hostname === '' ? url.pathname : describeAddress({ host: url.hostname, port: url.port === '' ? undefined : url.port });
  }
  if ('cluster' in connection) return `cluster ${connection.cluster.map(({ host, port }) => `${host}:${port}`).join(', ')}`;
  return describeAddress(connection);
}

/** `host:port`, or the socket path, with ioredis' defaults for what is not set. */
function describeAddress(address: { host?: string; port?: number | string; path?: string }): string {
  return address.path ?? `${address.host ?? DEFAULT_REDIS_HOST}:${address.port ?? DEFAULT_REDIS_PORT}`;
}
