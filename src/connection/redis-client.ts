import type { Cluster, Redis, RedisCommander, RedisOptions } from 'ioredis';
import { DEFAULT_RECONNECT_BASE_DELAY_MS, DEFAULT_RECONNECT_JITTER, DEFAULT_RECONNECT_MAX_DELAY_MS } from '../constants.js';
import { backoffDelayMs } from '../options/backoff.js';
import type { ResolvedRetryOptions } from '../options/resolve-server-options.js';

/**
 * A client for commands that do not block: one Redis, or a Redis Cluster,
 * where ioredis sends each command to the node serving its key's slot.
 */
export type RedisClient = Redis | Cluster;

/**
 * The commands of a client, one Redis or a cluster alike: what the parts that
 * only send commands work with. (TypeScript cannot pick an overload of a
 * command called on the union {@link RedisClient}; both share these.)
 */
export type RedisCommands = RedisCommander<{ type: 'default'; mapping: 'resp2' }> & {
  /** Both keep their `keyPrefix` here (see `key-prefix.ts`). */
  readonly options: { readonly keyPrefix?: string | undefined };
};

/** Whether a client is an ioredis `Cluster` (also one of another copy of ioredis). */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** Settings we impose on every connection we open, over the user's own. */
export type ConnectionOverrides = Pick<
  RedisOptions,
  | 'connectionName'
  | 'maxRetriesPerRequest'
  | 'enableAutoPipelining'
  | 'autoResendUnfulfilledCommands'
  | 'enableOfflineQueue'
  | 'socketTimeout'
>;

/**
 * How long ioredis waits for a closing socket before destroying it. We only
 * disconnect to abandon a connection; ioredis' default keeps a 2 s timer per
 * disconnect (even on a socket that has already closed), which holds the
 * process open after close().
 */
export const DISCONNECT_TIMEOUT_MS = 100;

/** How every connection, and every loop waiting for one, backs off between attempts. */
const RECONNECT_BACKOFF: ResolvedRetryOptions = {
  strategy: 'exponential',
  baseDelayMs: DEFAULT_RECONNECT_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_RECONNECT_MAX_DELAY_MS,
  jitter: DEFAULT_RECONNECT_JITTER,
};

/**
 * Reconnect delays: exponential with jitter, capped, never giving up. The
 * `retryStrategy` of every connection we open (a cluster's
 * `clusterRetryStrategy`), and the wait of every loop that retries after losing one.
 *
 * @param attempt - 1 for the first retry
 */
export function reconnectDelayMs(attempt: number): number {
  return backoffDelayMs(attempt, RECONNECT_BACKOFF);
}
