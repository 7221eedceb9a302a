import type { ProducerSerializer } from '@nestjs/microservices';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../redis-streams.constants.js';
import { InvalidOptionsError } from '../errors/redis-streams.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';
import type { RedisStreamsClientOptions } from '../interfaces/client-options.interface.js';
import { wholeNumber } from './validate.js';

/** Client options with defaults filled in and values checked. */
export interface ResolvedClientOptions {
  readonly connection: RedisConnection;
  readonly maxLen: number | undefined;
  readonly connectTimeoutMs: number;
  readonly serializer: ProducerSerializer | undefined;
}

/**
 * Fills defaults and validates client options.
 *
 * @throws InvalidOptionsError naming the first bad option
 */
export function resolveClientOptions(options: RedisStreamsClientOptions | undefined): ResolvedClientOptions {
  const given = options ?? {};
  const connection = given.connection ?? { host: 'localhost', port: 6379 };
  if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
    throw new InvalidOptionsError('connection', 'must be ioredis options, a redis:// URL or an ioredis instance');
  }
  return {
    connection,
    maxLen: given.maxLen === undefined ? undefined : wholeNumber('maxLen', given.maxLen, 0, 1),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', given.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    serializer: given.serializer,
  };
}
