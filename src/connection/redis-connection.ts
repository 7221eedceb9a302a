import { Redis, type Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { isClientLimitReply } from '../errors/redis-reply.js';
import type { RedisClusterConnection, RedisConnection } from '../interfaces/connection.interface.js';
import { isClusterConnection, isClusterInstance } from '../options/connection-option.js';
import { abandonCluster, connectClusterWithin, createCluster, quitCluster } from './cluster-connection.js';
import { clientLimitError, ConnectTimeout, connectionError, isReplyError } from './connect-failure.js';
import { describeTarget } from './connection-target.js';
import { readGreeting } from './greeting-probe.js';
import { tlsConnectionError } from './tls-error.js';
import { endFailoverDetection, sentinelOverrides } from './sentinel.js';
import { DISCONNECT_TIMEOUT_MS, isCluster, reconnectDelayMs, type ConnectionOverrides, type RedisClient } from './redis-client.js';
import { createSlotReader, setUnblockRoute } from './slot-reader.js';

export { reconnectDelayMs, type ConnectionOverrides, type RedisClient } from './redis-client.js';

/** A `connection` setting for one Redis (not a cluster). */
export type StandaloneConnection = Exclude<RedisConnection, Cluster | RedisClusterConnection>;

/**
 * Opens (lazily) a new client for the given connection setting: a `Cluster`
 * for a cluster description or a `Cluster` instance, else a `Redis`. An
 * ioredis instance given by the user is duplicated, never used or closed directly.
 */
export function createClient(connection: RedisConnection, overrides: ConnectionOverrides): RedisClient {
  return isClusterConnection(connection) ? createCluster(connection, overrides) : createRedis(connection, overrides);
}

/**
 * Opens (lazily) a connection for blocking reads of `key`. On one Redis, a
 * connection like any other; on a cluster, one that goes to the master
 * serving the key's slot and follows the slot when it moves (see
 * {@link createSlotReader}). Either way, `unblockRoute()` knows where
 * CLIENT UNBLOCK for it goes out.
 *
 * @param commands - the server's command client, already connected (on a cluster, its slot map is followed)
 */
export function createReader(connection: RedisConnection, commands: RedisClient, key: string, overrides: ConnectionOverrides): Redis {
  if (!isClusterConnection(connection)) {
    const reader = createRedis(connection, overrides);
    setUnblockRoute(reader, () => (!isCluster(commands) && commands.status === 'ready' ? commands : undefined));
    return reader;
  }
  if (!isCluster(commands)) throw new Error('a cluster connection reads through a command cluster');
  return createSlotReader(commands, key, nodeOptionsOf(connection), overrides);
}

/** The user's settings for the node connections of a cluster (without ours). */
function nodeOptionsOf(connection: Cluster | RedisClusterConnection): NonNullable<ClusterOptions['redisOptions']> {
  const options: ClusterOptions | undefined = isClusterInstance(connection) ? connection.options : connection.clusterOptions;
  return options?.redisOptions ?? {};
}

/**
 * Opens (lazily) a new ioredis client to one Redis. An ioredis instance given
 * by the user is duplicated, never used or closed directly.
 */
export function createRedis(connection: StandaloneConnection, overrides: ConnectionOverrides): Redis {
  const common: RedisOptions = {
    ...overrides,
    lazyConnect: true,
    retryStrategy: reconnectDelayMs,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  };
  if (connection instanceof Redis) {
    return connection.duplicate({ ...sentinelOverrides({ sentinels: connection.options.sentinels }), ...common });
  }
  if (typeof connection === 'string') {
    return new Redis(connection, common);
  }
  return new Redis({ ...connection, ...sentinelOverrides(connection), ...common });
}

/**
 * Connects and waits for `ready`, or fails within `timeoutMs` with an error
 * naming the target and what to fix; on failure the client stops reconnecting.
 * The error and its `cause` never carry the handshake's arguments (HELLO and
 * AUTH carry the password).
 *
 * @throws RedisConnectionError when Redis does not answer in time or refuses us
 */
export async function connectWithin(client: RedisClient, timeoutMs: number): Promise<void> {
  if (isCluster(client)) return connectClusterWithin(client, timeoutMs);
  const redis = client;
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeout(timeoutMs)), timeoutMs);
  });
  // ioredis rejects connect() with a bare "Connection is closed."; the socket
  // error before it (ECONNREFUSED, ENOTFOUND, WRONGPASS) says what is wrong.
  // A Redis reply says more than the socket error that may follow it.
  let lastError: unknown;
  let replyError: unknown;
  let hasReachedRedis = false;
  const remember = (error: unknown): void => {
    lastError = error;
    if (isReplyError(error)) replyError = error;
  };
  const reached = (): void => {
    hasReachedRedis = true;
  };
  redis.on('error', remember);
  redis.on('connect', reached);
  try {
    const connecting = redis.status === 'wait' ? redis.connect() : waitForReady(redis);
    await Promise.race([connecting, timeout]);
  } catch (error) {
    redis.disconnect();
    const refusal = replyError ?? lastError ?? error;
    // A socket that closed without a reply: Redis may have refused it at its client limit.
    if (
      replyError === undefined &&
      hasReachedRedis &&
      !(error instanceof ConnectTimeout) &&
      isClientLimitReply((await readGreeting(redis)) ?? '')
    ) {
      throw clientLimitError(describeTarget(redis), refusal);
    }
    throw tlsConnectionError(redis, refusal, error instanceof ConnectTimeout) ?? connectionError(describeTarget(redis), error, refusal);
  } finally {
    clearTimeout(timer);
    redis.off('error', remember);
    redis.off('connect', reached);
  }
}

function waitForReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/** Closes a client politely, falling back to a hard disconnect if Redis is gone. */
export async function quitQuietly(client: RedisClient): Promise<void> {
  if (isCluster(client)) return quitCluster(client);
  const redis = client;
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    await abandon(redis);
    return;
  }
  try {
    await redis.quit();
    endFailoverDetection(redis);
  } catch {
    // The connection is going away either way; a failed QUIT changes nothing.
    await abandon(redis);
  }
}

/**
 * Closes a client for good and fails every command still waiting on it.
 *
 * `disconnect()` alone is not enough: a client between two reconnect attempts
 * stays "reconnecting" for ever with its offline queue unsettled, so whoever
 * awaits a queued command (an ack, a claim) would wait for ever. One last
 * connection attempt, made after `disconnect()` marked the close as manual,
 * ends the client and fails the queue if Redis is still away, or sends it and
 * closes if Redis is back.
 */
export async function abandon(client: RedisClient): Promise<void> {
  if (isCluster(client)) return abandonCluster(client);
  const redis = client;
  if (redis.status === 'end') return;
  redis.disconnect();
  if (redis.status !== 'reconnecting') return;
  try {
    await redis.connect();
  } catch {
    // Redis is still away: the client has ended and failed its queued commands.
  }
  // Read again: connect() moved the status on (TypeScript still narrows it to "reconnecting").
  if (!hasEnded(redis)) redis.disconnect();
}

function hasEnded(redis: Redis): boolean {
  return redis.status === 'end';
}

/** A command's connection closed before Redis answered it. */
export class ConnectionLostError extends Error {
  constructor(readonly command: string) {
    super(`the connection closed before ${command} was answered`);
    this.name = new.target.name;
  }
}

/**
 * Guards a connection opened with `autoResendUnfulfilledCommands: false`. When
 * such a connection drops, ioredis forgets the commands that were waiting for
 * a reply: their promises never settle. Sent through {@link send}, they fail
 * with {@link ConnectionLostError} as soon as the connection closes instead.
 * Commands are only sent while the connection is ready, so none waits in the
 * offline queue to run later for a caller that has given up on it.
 *
 * The commands are failed where ioredis keeps them (its queue of commands
 * waiting for replies), not through a promise of our own around each: that
 * wrapper, one per read, kept every read's reply alive through V8's
 * young-generation collections (measured at 1,000 requests/s: ~500 KB
 * promoted per collection instead of ~20 KB, and each collection twice as long).
 */
export class GuardedConnection {
  private closes = 0;
  /** Whether the connection was ready since it last closed: only then does ioredis' queue hold nothing but our commands. */
  private wasReady: boolean;

  constructor(readonly redis: Redis) {
    this.wasReady = redis.status === 'ready';
    redis.on('ready', () => {
      this.wasReady = true;
    });
    redis.on('close', () => {
      this.closes += 1;
      if (this.wasReady) failUnanswered(redis);
      this.wasReady = false;
    });
  }

  /** Changes every time the connection closes; a value read before a reconnect is stale after it. */
  get epoch(): number {
    return this.closes;
  }

  /** Resolves once the connection is ready, or when `abort` fires. */
  whenReady(abort: AbortSignal): Promise<void> {
    const { redis } = this;
    if (redis.status === 'ready' || abort.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        redis.off('ready', done);
        abort.removeEventListener('abort', done);
        resolve();
      };
      redis.on('ready', done);
      abort.addEventListener('abort', done);
    });
  }

  /**
   * Sends a command now, on the connection of `epoch` (the current one by default).
   *
   * @param command - sends one command and returns ioredis' promise of its reply
   * @throws ConnectionLostError when the connection is not ready, has closed
   *   since `epoch`, or closes before the reply
   */
  send<T>(name: string, command: (redis: Redis) => Promise<T>, epoch = this.closes): Promise<T> {
    const { redis } = this;
    if (redis.status !== 'ready' || epoch !== this.closes) {
      return Promise.reject(new ConnectionLostError(name));
    }
    return command(redis);
  }
}

/** The part of ioredis' queue of commands waiting for replies (ioredis 5 and 6) that closing needs. */
interface UnansweredCommands {
  toArray(): ReadonlyArray<{ readonly command: { readonly name: string; reject(error: Error): void } }>;
}

/**
 * Fails the commands a closed connection left unanswered. ioredis keeps them
 * for a resend that `autoResendUnfulfilledCommands: false` never makes, and
 * their promises would never settle. Rejecting one twice does nothing.
 */
function failUnanswered(redis: Redis): void {
  const queue = (redis as unknown as { commandQueue?: Partial<UnansweredCommands> }).commandQueue;
  if (typeof queue?.toArray !== 'function') return;
  for (const { command } of queue.toArray()) command.reject(new ConnectionLostError(command.name.toUpperCase()));
}
