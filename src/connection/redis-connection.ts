import { Redis, type RedisOptions } from 'ioredis';
import { redactError } from '../errors/redact.js';
import { RedisConnectionError } from '../errors/redis-connection.error.js';
import { connectionRefusal, isClientLimitReply } from '../errors/redis-reply.js';
import { describeError } from '../errors/describe-error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import { backoffDelayMs } from '../options/backoff.js';
import type { ResolvedRetryOptions } from '../options/resolve-server-options.js';
import { describeTarget } from './connection-target.js';
import { readGreeting } from './greeting-probe.js';
import { DEFAULT_RECONNECT_BASE_DELAY_MS, DEFAULT_RECONNECT_JITTER, DEFAULT_RECONNECT_MAX_DELAY_MS } from '../constants.js';

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

/** How every connection, and every loop waiting for one, backs off between attempts. */
const RECONNECT_BACKOFF: ResolvedRetryOptions = {
  strategy: 'exponential',
  baseDelayMs: DEFAULT_RECONNECT_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_RECONNECT_MAX_DELAY_MS,
  jitter: DEFAULT_RECONNECT_JITTER,
};

/**
 * Reconnect delays: exponential with jitter, capped, never giving up. The
 * `retryStrategy` of every connection {@link createRedis} opens, and the wait
 * of every loop that retries after losing one.
 *
 * @param attempt - 1 for the first retry
 */
export function reconnectDelayMs(attempt: number): number {
  return backoffDelayMs(attempt, RECONNECT_BACKOFF);
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
    // We only disconnect to abandon a connection; ioredis' default keeps a
    // 2 s timer per disconnect (even on a socket that has already closed),
    // which holds the process open after close().
    disconnectTimeout: 100,
  };
  if (connection instanceof Redis) {
    return connection.duplicate(common);
  }
  if (typeof connection === 'string') {
    return new Redis(connection, common);
  }
  return new Redis({ ...connection, ...common });
}

/** Raised by {@link connectWithin} when `connectTimeoutMs` passes. */
class ConnectTimeout extends Error {}

/**
 * Connects and waits for `ready`, or fails within `timeoutMs` with an error
 * naming the target and what to fix; on failure the client stops reconnecting.
 * The error and its `cause` never carry the handshake's arguments (HELLO and
 * AUTH carry the password).
 *
 * @throws RedisConnectionError when Redis does not answer in time or refuses us
 */
export async function connectWithin(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeout(`no answer within ${timeoutMs} ms (connectTimeoutMs)`)), timeoutMs);
  });
  // ioredis rejects connect() with a bare "Connection is closed."; the socket
  // error before it (ECONNREFUSED, ENOTFOUND, WRONGPASS) says what is wrong.
  // A Redis reply says more than the socket error that may follow it.
  let lastError: unknown;
  let replyError: unknown;
  let hasReachedRedis = false;
  const remember = (error: unknown): void => {
    lastError = error;
    // ioredis types its ReplyError class as any; its instances are named.
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
      throw clientLimitError(redis, refusal);
    }
    throw connectionError(redis, error, refusal);
  } finally {
    clearTimeout(timer);
    redis.off('error', remember);
    redis.off('connect', reached);
  }
}

function isReplyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'ReplyError';
}

function connectionError(redis: Redis, error: unknown, refusal: unknown): RedisConnectionError {
  const target = describeTarget(redis);
  const cause = redactError(refusal);
  const reason = refusal === error ? describeError(cause) : `${describeError(error)} (${describeError(cause)})`;
  switch (connectionRefusal(refusal)) {
    case 'client-limit':
      return clientLimitError(redis, refusal);
    case 'credentials':
      return new RedisConnectionError(target, `Redis refused the credentials (${describeError(cause)})`, {
        cause,
        fix: 'Check the username and password in "connection": the Redis user must exist, be enabled ("on") and have that password (ACL LIST shows the users).',
      });
    case 'permission':
      return new RedisConnectionError(
        target,
        `the Redis user may not run a command of the connection handshake (${describeError(cause)})`,
        {
          cause,
          fix: 'Grant the user the commands the README\'s "Redis ACL" section lists.',
        },
      );
    default:
      return new RedisConnectionError(target, reason, { cause });
  }
}

function clientLimitError(redis: Redis, refusal: unknown): RedisConnectionError {
  return new RedisConnectionError(describeTarget(redis), 'Redis refused the connection because its client limit (maxclients) is reached', {
    cause: redactError(refusal),
    fix:
      'Raise the limit (CONFIG SET maxclients <n>, or maxclients in redis.conf; it is also capped by the open-file limit, ulimit -n), ' +
      'or close connections nobody needs (CLIENT LIST shows them; INFO clients counts them). ' +
      'Each RedisStreamsServer opens two connections (and one more per further group of streams with other read settings, see unwrap()); each RedisStreamsClient opens one.',
  });
}

function waitForReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/** Closes a client politely, falling back to a hard disconnect if Redis is gone. */
export async function quitQuietly(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    await abandon(redis);
    return;
  }
  try {
    await redis.quit();
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
export async function abandon(redis: Redis): Promise<void> {
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
 */
export class GuardedConnection {
  private closes = 0;
  /** Rejecters of the commands waiting for a reply, failed together on close. */
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(readonly redis: Redis) {
    redis.on('close', () => {
      this.closes += 1;
      for (const reject of this.waiting) reject(new ConnectionLostError('the command'));
      this.waiting.clear();
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
   * @throws ConnectionLostError when the connection is not ready, has closed
   *   since `epoch`, or closes before the reply
   */
  send<T>(name: string, command: (redis: Redis) => Promise<T>, epoch = this.closes): Promise<T> {
    const { redis } = this;
    if (redis.status !== 'ready' || epoch !== this.closes) {
      return Promise.reject(new ConnectionLostError(name));
    }
    return new Promise<T>((resolve, reject) => {
      const onClose = (): void => reject(new ConnectionLostError(name));
      this.waiting.add(onClose);
      // A lost command never settles; the close listener has rejected it then.
      command(redis).then(
        (value) => {
          this.waiting.delete(onClose);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(onClose);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the Redis error on unchanged
          reject(error);
        },
      );
    });
  }
}
