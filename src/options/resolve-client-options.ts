import type { ProducerSerializer } from '@nestjs/microservices';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_EMIT_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_EMITS,
} from '../redis-streams.constants.js';
import { InvalidOptionsError } from '../errors/redis-streams.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import type { RedisStreamsClientOptions } from '../interfaces/client-options.interface.js';
import { kindOf, objectWithMethod, optionsObject, wholeNumber } from './validate.js';

/** Client options with defaults filled in and values checked. */
export interface ResolvedClientOptions {
  readonly connection: RedisConnection;
  readonly maxLen: number | undefined;
  readonly connectTimeoutMs: number;
  readonly emitTimeoutMs: number;
  readonly maxQueuedEmits: number;
  readonly serializer: ProducerSerializer | undefined;
}

/**
 * Fills defaults and validates client options, each for its type.
 *
 * @throws InvalidOptionsError naming the first bad option and what it expects
 */
export function resolveClientOptions(options: RedisStreamsClientOptions | undefined): ResolvedClientOptions {
  const given = optionsObject<RedisStreamsClientOptions>('options', options, 'client options') ?? {};
  return {
    connection: connectionOption(given.connection),
    maxLen: given.maxLen === undefined ? undefined : wholeNumber('maxLen', given.maxLen, 0, 1),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', given.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    emitTimeoutMs: wholeNumber('emitTimeoutMs', given.emitTimeoutMs, DEFAULT_EMIT_TIMEOUT_MS, 1),
    maxQueuedEmits: wholeNumber('maxQueuedEmits', given.maxQueuedEmits, DEFAULT_MAX_QUEUED_EMITS, 0),
    serializer: objectWithMethod<ProducerSerializer>('serializer', given.serializer, 'serialize', '(packet)'),
  };
}

function connectionOption(value: RedisConnection | undefined): RedisConnection {
  if (value === undefined) return { host: 'localhost', port: 6379 };
  // Typed callers cannot get it wrong; plain JavaScript and config files can.
  const given: unknown = value;
  const isUrl = typeof given === 'string' && given.length > 0;
  const isObject = typeof given === 'object' && given !== null && !Array.isArray(given);
  if (!isUrl && !isObject) {
    throw new InvalidOptionsError(
      'connection',
      `must be ioredis options, a redis:// URL or an ioredis instance, got ${kindOf(given)}`,
    );
  }
  return value;
}
