import { Redis } from 'ioredis';
import { DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT } from '../constants.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';

/** Where a client points, without credentials, for messages. */
export function describeTarget(redis: Redis): string {
  return describeAddress(redis.options);
}

/**
 * Where a connection setting points, without credentials, for errors raised
 * before an ioredis client exists.
 */
export function describeConnection(connection: RedisConnection): string {
  if (connection instanceof Redis) return describeTarget(connection);
  if (typeof connection === 'string') {
    if (!URL.canParse(connection)) return 'the configured address';
    const url = new URL(connection);
    return url.hostname === '' ? url.pathname : describeAddress({ host: url.hostname, port: url.port === '' ? undefined : url.port });
  }
  return describeAddress(connection);
}

/** `host:port`, or the socket path, with ioredis' defaults for what is not set. */
function describeAddress(address: { host?: string; port?: number | string; path?: string }): string {
  return address.path ?? `${address.host ?? DEFAULT_REDIS_HOST}:${address.port ?? DEFAULT_REDIS_PORT}`;
}
