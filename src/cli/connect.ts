import { Cluster, Redis } from 'ioredis';
import type { AdminClient } from '../admin/admin-client.js';
import { describeError } from '../errors/describe-error.js';

/** The default Redis when neither `--url` nor `REDIS_URL` names one. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** How long a connect may take before the CLI gives up. */
const CONNECT_TIMEOUT_MS = 5_000;

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * Connects to the Redis at `url` (one Redis, or with `cluster` a Redis
 * Cluster seeded by that node), trying once: a CLI should fail fast.
 *
 * @throws Error naming the URL (without its password), the cause and the fix
 */
export async function connectAdmin(url: string, cluster: boolean): Promise<AdminClient> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url / REDIS_URL is not a URL; give one like ${DEFAULT_URL}`);
  }
  const once = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, enableOfflineQueue: true };
  const redis: AdminClient = cluster
    ? new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
        lazyConnect: true,
        clusterRetryStrategy: () => null,
        redisOptions: {
          ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
          ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
          ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
          connectTimeout: CONNECT_TIMEOUT_MS,
        },
      })
    : new Redis(url, { ...once, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const code = (error as { code?: unknown }).code;
    throw Object.assign(
      new Error(
        `cannot connect to ${redactUrl(url)} (${describeError(error)}); check --url or REDIS_URL${cluster ? ' (a node of the cluster)' : ''}`,
      ),
      {
        code,
      },
    );
  }
  return redis;
}
