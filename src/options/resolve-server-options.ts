import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ConsumerDeserializer } from '@nestjs/microservices';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_BLOCK_MS,
  DEFAULT_CLAIM_IDLE_MS,
  DEFAULT_CLAIM_INTERVAL_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONSUMER_IDLE_CLEANUP_MS,
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STREAM_WAIT_INTERVAL_MS,
} from '../constants.js';
import { InvalidOptionsError } from '../errors/redis-streams.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import type { RetryOptions, RetryStrategy } from '../interfaces/retry-options.interface.js';
import type {
  DeadLetterOptions,
  MissingStreamPolicy,
  RedisStreamsServerOptions,
  StreamHandlerOptions,
} from '../interfaces/server-options.interface.js';
import { nonEmptyString, numberInRange, oneOf, wholeNumber } from './validate.js';
import { connectionOption } from './connection-option.js';
import { objectWithMethod, onlyKnownKeys, optionsObject } from './validate-shape.js';
import { deadLetterKeyOf } from '../routing/key-names.js';

/** Options that can be set per handler. */
export const STREAM_OPTION_KEYS = [
  'batchSize',
  'blockMs',
  'concurrency',
  'claimIdleMs',
  'claimIntervalMs',
  'maxDeliveries',
  'retry',
  'deadLetter',
] as const satisfies ReadonlyArray<keyof StreamHandlerOptions>;

const SERVER_OPTION_KEYS = [
  ...STREAM_OPTION_KEYS,
  'connection',
  'group',
  'consumer',
  'startFrom',
  'missingStream',
  'streamWaitIntervalMs',
  'shutdownTimeoutMs',
  'connectTimeoutMs',
  'idleConsumerCleanupMs',
  'deserializer',
] as const satisfies ReadonlyArray<keyof RedisStreamsServerOptions>;

const RETRY_KEYS = ['strategy', 'baseDelayMs', 'maxDelayMs', 'jitter'] as const satisfies ReadonlyArray<keyof RetryOptions>;
const DEAD_LETTER_KEYS = ['stream', 'maxLen'] as const satisfies ReadonlyArray<keyof DeadLetterOptions>;

/** Retry delay settings with every default filled in. */
export interface ResolvedRetryOptions {
  readonly strategy: RetryStrategy;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** Settings of one stream reader: server options plus the handler's extras. */
export interface ResolvedStreamOptions {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly concurrency: number;
  readonly claimIdleMs: number;
  readonly claimIntervalMs: number;
  readonly maxDeliveries: number;
  readonly retry: ResolvedRetryOptions;
  readonly deadLetterStream: (stream: string) => string;
  readonly deadLetterMaxLen: number | undefined;
}

/** Server options with every default filled in and every value checked. */
export interface ResolvedServerOptions extends ResolvedStreamOptions {
  readonly connection: RedisConnection;
  readonly group: string;
  readonly consumer: string;
  readonly startId: string;
  readonly missingStream: MissingStreamPolicy;
  readonly streamWaitIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly idleConsumerCleanupMs: number;
  readonly deserializer: ConsumerDeserializer | undefined;
}

const STREAM_ID = /^\d+(-\d+)?$/;

/** A consumer name unique to this process and instance. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function resolveStartId(value: unknown): string {
  if (value === undefined || value === 'latest') return '$';
  if (value === 'beginning') return '0';
  if (typeof value === 'string' && STREAM_ID.test(value)) return value;
  throw new InvalidOptionsError(
    'startFrom',
    `must be 'latest', 'beginning' or an entry id such as '1700000000000-0', got ${JSON.stringify(value)}`,
  );
}

/**
 * Fills the defaults of the options that can be set per handler, over a base.
 *
 * @param options - the server options or a handler's extras
 * @param base - what unset values fall back to
 * @param prefix - names the option in errors (`extras of stream:orders.`)
 * @throws InvalidOptionsError when a value is out of range
 */
export function resolveStreamOptions(
  options: StreamHandlerOptions,
  base: ResolvedStreamOptions | undefined,
  prefix = '',
): ResolvedStreamOptions {
  if (base !== undefined) onlyKnownKeys(prefix, options, STREAM_OPTION_KEYS, ' Server-wide options go to the RedisStreamsServer constructor.');
  const claimIdleMs = wholeNumber(`${prefix}claimIdleMs`, options.claimIdleMs, base?.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS, 1);
  const retry: RetryOptions = optionsObject(`${prefix}retry`, options.retry, RETRY_KEYS, "{ strategy: 'exponential', baseDelayMs: 1000 }");
  // A failed entry waits as an idle pending entry that becomes claimable after
  // claimIdleMs, so no retry delay can be longer than that.
  const baseRetry = base?.retry;
  const inheritedMax = baseRetry === undefined ? claimIdleMs : Math.min(baseRetry.maxDelayMs, claimIdleMs);
  const maxDelayMs = wholeNumber(`${prefix}retry.maxDelayMs`, retry.maxDelayMs, inheritedMax, 0);
  if (maxDelayMs > claimIdleMs) {
    throw new InvalidOptionsError(
      `${prefix}retry.maxDelayMs`,
      `must not exceed claimIdleMs (${claimIdleMs}): a failed entry is retried by becoming claimable, so raise claimIdleMs for longer delays`,
    );
  }
  const resolvedRetry: ResolvedRetryOptions = {
    strategy: oneOf(`${prefix}retry.strategy`, retry.strategy, baseRetry?.strategy ?? 'exponential', ['exponential', 'fixed']),
    baseDelayMs: Math.min(
      wholeNumber(`${prefix}retry.baseDelayMs`, retry.baseDelayMs, baseRetry?.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS, 0),
      maxDelayMs,
    ),
    maxDelayMs,
    jitter: numberInRange(`${prefix}retry.jitter`, retry.jitter, baseRetry?.jitter ?? 0.2, [0, 1]),
  };
  const deadLetter: DeadLetterOptions = optionsObject(
    `${prefix}deadLetter`,
    options.deadLetter,
    DEAD_LETTER_KEYS,
    "{ stream: (source) => `${source}:dead`, maxLen: 10000 }",
  );
  if (deadLetter.stream !== undefined && typeof deadLetter.stream !== 'function') {
    throw new InvalidOptionsError(`${prefix}deadLetter.stream`, 'must be a function from the source stream key to the dead-letter key');
  }
  const resolved: ResolvedStreamOptions = {
    batchSize: wholeNumber(`${prefix}batchSize`, options.batchSize, base?.batchSize ?? DEFAULT_BATCH_SIZE, 1),
    blockMs: wholeNumber(`${prefix}blockMs`, options.blockMs, base?.blockMs ?? DEFAULT_BLOCK_MS, 1),
    concurrency: wholeNumber(`${prefix}concurrency`, options.concurrency, base?.concurrency ?? DEFAULT_CONCURRENCY, 1),
    claimIdleMs,
    claimIntervalMs: wholeNumber(`${prefix}claimIntervalMs`, options.claimIntervalMs, base?.claimIntervalMs ?? DEFAULT_CLAIM_INTERVAL_MS, 1),
    maxDeliveries: wholeNumber(`${prefix}maxDeliveries`, options.maxDeliveries, base?.maxDeliveries ?? DEFAULT_MAX_DELIVERIES, 1),
    retry: resolvedRetry,
    deadLetterStream: deadLetter.stream ?? base?.deadLetterStream ?? deadLetterKeyOf,
    deadLetterMaxLen: wholeNumber(`${prefix}deadLetter.maxLen`, deadLetter.maxLen, base?.deadLetterMaxLen ?? 0, 1) || undefined,
  };
  return resolved;
}

/**
 * Fills defaults and validates server options, once, before anything connects.
 *
 * @throws InvalidOptionsError naming the first bad option and what it must be
 */
export function resolveServerOptions(options: RedisStreamsServerOptions | undefined): ResolvedServerOptions {
  if (options === undefined || options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionsError('options', 'pass an object such as { group: "billing" }');
  }
  onlyKnownKeys('', options, SERVER_OPTION_KEYS, ' Redis connection settings go under "connection".');
  const group = nonEmptyString('group', options.group);
  if (group === undefined) {
    throw new InvalidOptionsError('group', 'must name a consumer group, e.g. { group: "billing" }');
  }
  const consumer = nonEmptyString('consumer', options.consumer) ?? defaultConsumerName();
  const connection = connectionOption(options.connection);
  return {
    ...resolveStreamOptions(options, undefined),
    connection,
    group,
    consumer,
    startId: resolveStartId(options.startFrom),
    missingStream: oneOf('missingStream', options.missingStream, 'create', ['create', 'wait']),
    streamWaitIntervalMs: wholeNumber('streamWaitIntervalMs', options.streamWaitIntervalMs, DEFAULT_STREAM_WAIT_INTERVAL_MS, 1),
    shutdownTimeoutMs: wholeNumber('shutdownTimeoutMs', options.shutdownTimeoutMs, DEFAULT_SHUTDOWN_TIMEOUT_MS, 0),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    idleConsumerCleanupMs: wholeNumber('idleConsumerCleanupMs', options.idleConsumerCleanupMs, DEFAULT_CONSUMER_IDLE_CLEANUP_MS, 0),
    deserializer: objectWithMethod<ConsumerDeserializer>('deserializer', options.deserializer, 'deserialize', '(packet)'),
  };
}
