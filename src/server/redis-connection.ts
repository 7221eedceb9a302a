import { Redis, type RedisOptions } from 'ioredis';
import { RedisConnectionError } from '../errors/redis-streams.error.js';
import { describeError } from '../errors/redis-reply.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { backoffDelayMs } from './backoff.js';
import {
  DEFAULT_RECONNECT_BASE_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from '../redis-streams.constants.js';

/** Settings we impose on every connection we open, over the user's own. */
export type ConnectionOverrides = Pick<
  RedisOptions,
  | 'connectionName'
  | 'maxRetriesPerRequest'
  | 'enableAutoPipelining'
  | 'autoResendUnfulfilledCommands'
  | 'enableOfflineQueue'
>;

/** Reconnect delays: exponential with jitter, capped, never giving up. */
export function reconnectDelayMs(attempt: number): number {
  return backoffDelayMs(attempt, {
    strategy: 'exponential',
    baseDelayMs: DEFAULT_RECONNECT_BASE_DELAY_MS,
    maxDelayMs: DEFAULT_RECONNECT_MAX_DELAY_MS,
    jitter: 0.2,
  });
}

/**
 * Opens (lazily) a new ioredis client for the given connection setting. An
 * ioredis instance given by the user is duplicated, never used or closed directly.
 */
export function createRedis(connection: RedisConnection, overrides: ConnectionOverrides): Redis {
  const common: RedisOptions = {
    ...overrides,
    lazyConnect: true,
    retryStrategy: reconnectDelayMs,
  };
  if (connection instanceof Redis) {
    return connection.duplicate(common);
  }
  if (typeof connection === 'string') {
    return new Redis(connection, common);
  }
  return new Redis({ ...connection, ...common });
}

/** Where a client points, without credentials, for messages. */
export function describeTarget(redis: Redis): string {
  const { host, port, path } = redis.options;
  return path ?? `${host ?? 'localhost'}:${port ?? 6379}`;
}

/**
 * Connects and waits for `ready`, or fails within `timeoutMs` with an error
 * naming the target; on failure the client stops reconnecting.
 *
 * @throws RedisConnectionError when Redis does not answer in time
 */
export async function connectWithin(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs} ms (connectTimeoutMs)`)),
      timeoutMs,
    );
  });
  try {
    const connecting = redis.status === 'wait' ? redis.connect() : waitForReady(redis);
    await Promise.race([connecting, timeout]);
  } catch (error) {
    redis.disconnect();
    throw new RedisConnectionError(describeTarget(redis), describeError(error), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function waitForReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/** Closes a client politely, falling back to a hard disconnect if Redis is gone. */
export async function quitQuietly(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    // The connection is going away either way; a failed QUIT changes nothing.
    redis.disconnect();
  }
}
