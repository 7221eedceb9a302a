import type { ProducerSerializer } from '@nestjs/microservices';
import type { RedisConnection } from './connection.interface.js';
import type { ClientTelemetryOptions } from './telemetry-options.interface.js';

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
  /**
   * Most time an `emit()` waits while Redis is not connected (down, restarting,
   * not reached yet) before it fails with an `EmitTimeoutError` naming Redis'
   * address. An emit still waiting in the client's queue is then dropped and
   * never written; one whose XADD was already sent when the connection dropped
   * may or may not have been written. While connected, emits are not timed.
   *
   * @defaultValue 5000
   */
  emitTimeoutMs?: number;
  /**
   * Most emits held while Redis is not connected; past it `emit()` fails at
   * once with an `EmitQueueFullError`. `0` holds none.
   *
   * @defaultValue 10000
   */
  maxQueuedEmits?: number;
  /**
   * Most time a `send()` waits for its reply (for an Observable handler, for
   * its last reply) before its Observable errors with a `ReplyTimeoutError`.
   * The request is then forgotten: a reply arriving later is ignored, and a
   * server that reads the request after this deadline skips it. Unsubscribing
   * earlier forgets the request too.
   *
   * @defaultValue 30000
   */
  replyTimeoutMs?: number;
  /**
   * Turns the outgoing packet into what is written as `data`: an object with
   * a `serialize(packet)` function.
   *
   * @defaultValue the identity
   */
  serializer?: ProducerSerializer;
  /**
   * OpenTelemetry `send` spans (their context written into each entry's
   * metadata) and the sent-messages counter, when `@opentelemetry/api` is
   * installed and an SDK registered; `false` turns them off.
   *
   * @defaultValue `{ metrics: true, traces: true }`
   */
  telemetry?: ClientTelemetryOptions | false;
}
