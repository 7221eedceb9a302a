import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ConsumerDeserializer } from '@nestjs/microservices';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONSUMER_IDLE_CLEANUP_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STREAM_WAIT_INTERVAL_MS,
} from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import type { MissingStreamPolicy, RedisStreamsServerOptions } from '../interfaces/server-options.interface.js';
import { isEntryId } from '../codec/entry-id.js';
import { nonEmptyString, oneOf, wholeNumber } from './validate.js';
import { connectionOption } from './connection-option.js';
import { objectWithMethod, onlyKnownKeys } from './validate-shape.js';
import { resolveServerTelemetry, type ResolvedServerTelemetry } from './resolve-telemetry-options.js';
import { resolveStreamOptions, STREAM_OPTION_KEYS, type ResolvedStreamOptions } from './resolve-stream-group-options.js';

// The server's options are a consumer group's stream options plus its own.
export type { ResolvedRetryOptions } from './resolve-delivery-policy.js';
export { resolveStreamOptions, type ResolvedStreamOptions };

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
  'telemetry',
] as const satisfies ReadonlyArray<keyof RedisStreamsServerOptions>;

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
  readonly telemetry: ResolvedServerTelemetry;
}

/** A consumer name unique to this process and instance. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function resolveStartId(value: unknown): string {
  if (value === undefined || value === 'latest') return '$';
  if (value === 'beginning') return '0';
  if (isEntryId(value)) return value;
  throw new InvalidOptionsError(
    'startFrom',
    `must be 'latest', 'beginning' or an entry id such as '1700000000000-0', got ${JSON.stringify(value)}`,
  );
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
    telemetry: resolveServerTelemetry(options.telemetry),
  };
}
