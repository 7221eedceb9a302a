import type { ProducerSerializer } from '@nestjs/microservices';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_EMIT_TIMEOUT_MS, DEFAULT_MAX_QUEUED_EMITS, DEFAULT_REPLY_TIMEOUT_MS } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import type { RedisStreamsClientOptions } from '../interfaces/client-options.interface.js';
import { wholeNumber } from './validate.js';
import { resolveClientTelemetry, type ResolvedClientTelemetry } from './resolve-telemetry-options.js';
import { connectionOption } from './connection-option.js';
import { isPlainObject, objectWithMethod, onlyKnownKeys } from './validate-shape.js';

const CLIENT_OPTION_KEYS = [
  'connection',
  'maxLen',
  'connectTimeoutMs',
  'emitTimeoutMs',
  'maxQueuedEmits',
  'replyTimeoutMs',
  'serializer',
  'telemetry',
] as const satisfies ReadonlyArray<keyof RedisStreamsClientOptions>;

/** Client options with defaults filled in and values checked. */
export interface ResolvedClientOptions {
  readonly connection: RedisConnection;
  readonly maxLen: number | undefined;
  readonly connectTimeoutMs: number;
  readonly emitTimeoutMs: number;
  readonly maxQueuedEmits: number;
  readonly replyTimeoutMs: number;
  readonly serializer: ProducerSerializer | undefined;
  readonly telemetry: ResolvedClientTelemetry;
}

/**
 * Fills defaults and validates client options, each for its type.
 *
 * @throws InvalidOptionsError naming the first bad option and what it expects
 */
export function resolveClientOptions(options: RedisStreamsClientOptions | undefined): ResolvedClientOptions {
  if (options !== undefined && !isPlainObject(options)) {
    throw new InvalidOptionsError('options', 'must be an object of client options such as { connection: "redis://localhost:6379" }');
  }
  const given: RedisStreamsClientOptions = options ?? {};
  onlyKnownKeys('', given, CLIENT_OPTION_KEYS, ' Redis connection settings go under "connection".');
  return {
    connection: connectionOption(given.connection),
    maxLen: given.maxLen === undefined ? undefined : wholeNumber('maxLen', given.maxLen, 0, 1),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', given.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    emitTimeoutMs: wholeNumber('emitTimeoutMs', given.emitTimeoutMs, DEFAULT_EMIT_TIMEOUT_MS, 1),
    maxQueuedEmits: wholeNumber('maxQueuedEmits', given.maxQueuedEmits, DEFAULT_MAX_QUEUED_EMITS, 0),
    replyTimeoutMs: wholeNumber('replyTimeoutMs', given.replyTimeoutMs, DEFAULT_REPLY_TIMEOUT_MS, 1),
    serializer: objectWithMethod<ProducerSerializer>('serializer', given.serializer, 'serialize', '(packet)'),
    telemetry: resolveClientTelemetry(given.telemetry),
  };
}
