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
  const once = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, disconnectTimeout: 0 };
  const redis: AdminClient = cluster
    ? new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
        lazyConnect: true,
        clusterRetryStrategy: () => null,
        redisOptions: {
          ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
          ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
          ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
          connectTimeout: CONNECT_TIMEOUT_MS,
          disconnectTimeout: 0,
        },
      })
    : new Redis(url, { ...once, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED, a TLS failure) comes as an event; connect() rejects with "Connection is closed".
  let socketError: unknown;
  redis.on('error', (error: unknown) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
  } catch (rejection) {
    // disconnectTimeout 0: the failed socket is destroyed at once, so the process exits at once.
    redis.disconnect();
    const error = socketError ?? rejection;
    const failure = new ConnectFailure(
      `cannot connect to ${redactUrl(url)} (${describeError(error)}); check --url or REDIS_URL${cluster ? ' (a node of the cluster)' : ''}`,
    );
    throw Object.assign(failure, { code: (error as { code?: unknown }).code });
  }
  return redis;
}

/** Redis could not be reached: the message says where and why. */
export class ConnectFailure extends Error {
  override readonly name = 'ConnectFailure';
}
