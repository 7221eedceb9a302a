import type { Cluster, Redis } from 'ioredis';
import { isCluster, type RedisCommands } from '../connection/redis-client.js';

/** What the admin functions work on: one Redis, or a Redis Cluster. */
export type AdminClient = Redis | Cluster;

/** The commands of an admin client, typed alike for one Redis and a cluster. */
export function commandsOf(redis: AdminClient): RedisCommands {
  return redis;
}

/**
 * The nodes to ask about things that live on every node (keys for SCAN,
 * connections for CLIENT LIST): the masters of a cluster, or the one Redis.
 */
export function nodesOf(redis: AdminClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}
