import type { ProducerSerializer } from '@nestjs/microservices';
import type { RedisConnection } from './connection.interface.js';

/** Options of {@link RedisStreamsClient}. */
export interface RedisStreamsClientOptions {
  /**
   * Redis to write to.
   *
   * @defaultValue `{ host: 'localhost', port: 6379 }`
   */
  connection?: RedisConnection;
  /**
   * Approximate cap on each stream's length (`XADD MAXLEN ~`); unset keeps all.
   *
   * @defaultValue undefined
   */
  maxLen?: number;
  /**
   * Time `connect()` waits for Redis before it fails.
   *
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /** Turns the outgoing packet into what is written as `data`. */
  serializer?: ProducerSerializer;
}
