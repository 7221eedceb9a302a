import type { ConsumerDeserializer } from '@nestjs/microservices';
import type { RedisConnection } from './connection.interface.js';
import type { RetryOptions } from './retry-options.interface.js';
import type { ServerTelemetryOptions } from './telemetry-options.interface.js';

/**
 * Where a newly created consumer group starts: `latest` (`$`, only entries added
 * from now on), `beginning` (`0`, every entry already in the stream), or an
 * explicit entry id.
 */
export type GroupStart = 'latest' | 'beginning' | (string & {});

/**
 * What to do when a bound stream does not exist on start: `create` it (with
 * `XGROUP CREATE ... MKSTREAM`) or `wait` until a producer creates it.
 */
export type MissingStreamPolicy = 'create' | 'wait';

/**
 * The argo-events envelope with its origin set: `source` and `subject` of
 * every event's context.
 */
export interface ArgoEventsEnvelopeOptions {
  readonly format: 'argo-events';
  /**
   * The context's `source` (in argo-events, the event source's name).
   *
   * @defaultValue the consumer group's name
   */
  readonly source?: string;
  /**
   * The context's `subject` (in argo-events, the event's name).
   *
   * @defaultValue the stream key
   */
  readonly subject?: string;
}

/**
 * How a handler receives an entry: by default its payload (our client's
 * value, or a foreign entry's field map); `'argo-events'` hands it the event
 * the argo-events Redis Streams source dispatches,
 * `{ context: { id, source, specversion, type, datacontenttype, subject, time }, data: { stream, message_id, values } }`.
 */
export type EnvelopeOption = 'argo-events' | ArgoEventsEnvelopeOptions;

/** Where dead entries go. */
export interface DeadLetterOptions {
  /**
   * Dead-letter stream key for a source stream. The default keeps it in its
   * source's hash slot on every topology: `{<stream>}:dlq` for a key without
   * a hash tag (`orders` → `{orders}:dlq`), `<stream>:dlq` for one with a tag
   * (`{shop}:orders` → `{shop}:orders:dlq`). Given and returned without the
   * ioredis `keyPrefix`, which ioredis adds in front of both.
   *
   * @defaultValue `{<stream>}:dlq`, or `<stream>:dlq` when the key has a hash tag
   */
  stream?: (stream: string) => string;
  /**
   * Approximate cap on the dead-letter stream's length (`XADD MAXLEN ~`); unset keeps all.
   *
   * @defaultValue undefined
   */
  maxLen?: number;
}

/**
 * Options that can also be set per handler, as `@EventPattern` extras:
 * `@EventPattern('stream:orders', { concurrency: 1 })`.
 */
export interface StreamHandlerOptions {
  /**
   * Most entries one `XREADGROUP` returns.
   *
   * @defaultValue 100
   */
  batchSize?: number;
  /**
   * How long one `XREADGROUP` blocks waiting for new entries.
   *
   * @defaultValue 5000
   */
  blockMs?: number;
  /**
   * Most handlers running at once for one stream; reading pauses while all run.
   *
   * @defaultValue 200
   */
  concurrency?: number;
  /**
   * Idle time after which an entry pending on another consumer counts as
   * abandoned and may be claimed. Running handlers renew their entries, so a
   * live consumer's work is not taken from it.
   *
   * @defaultValue 30000
   */
  claimIdleMs?: number;
  /**
   * How often a stream is looked at for due retries and abandoned entries
   * while some may be waiting (entries pending on other consumers, or on this
   * one beyond its running handlers). A stream with none is looked at every
   * `max(claimIntervalMs, claimIdleMs)`, and this consumer's own retries
   * when they fall due.
   *
   * @defaultValue 1000
   */
  claimIntervalMs?: number;
  /**
   * Deliveries after which an entry goes to the dead-letter stream.
   *
   * @defaultValue 16
   */
  maxDeliveries?: number;
  /**
   * Longest a handler may run for one entry, in ms; `0` for no limit. Past it
   * the delivery counts as failed (retried after the backoff delay,
   * dead-lettered past `maxDeliveries`) and `ctx.signal` aborts with a
   * `HandlerTimeoutError`; the handler itself keeps running until it heeds the
   * signal, and its slot is free again for the next entry.
   *
   * @defaultValue 0 (no limit)
   */
  handlerTimeoutMs?: number;
  /** Delay before a failed entry is delivered again. */
  retry?: RetryOptions;
  /** Where entries go after `maxDeliveries`, or when undecodable. */
  deadLetter?: DeadLetterOptions;
  /**
   * Hands the handler the argo-events event of each entry instead of its
   * payload (see {@link EnvelopeOption}); a handler written for argo-events
   * works unchanged.
   *
   * @defaultValue undefined (the payload)
   */
  envelope?: EnvelopeOption;
}

/**
 * Where a broadcast handler starts reading its stream: `latest` (the entries
 * added after `listen()`; the position is fixed when the server starts, so
 * entries added before its first read are not missed), `beginning` (every
 * entry in the stream), or an entry id (the entries after it, as with a
 * group's `startFrom`).
 */
export type BroadcastStart = 'latest' | 'beginning' | (string & {});

/**
 * The `@EventPattern` extras of a broadcast handler: the stream is read
 * without a consumer group, with plain `XREAD`, so every instance of the app
 * sees every entry, at most once per instance. Nothing is acknowledged,
 * retried or dead-lettered: a failing handler is logged and the reader moves
 * on. The group-only options (`claimIdleMs`, `claimIntervalMs`,
 * `maxDeliveries`, `retry`, `deadLetter`) are refused here.
 *
 * @example
 * ```ts
 * @EventPattern('stream:prices', { broadcast: true } satisfies BroadcastHandlerOptions)
 * onPrice(@Payload() price: Price) {
 *   this.cache.set(price.sku, price);
 * }
 * ```
 */
export interface BroadcastHandlerOptions {
  /** Reads the stream without a consumer group: every instance gets every entry. */
  broadcast: true;
  /**
   * Where to start.
   *
   * @defaultValue 'latest'
   */
  startFrom?: BroadcastStart;
  /**
   * Most entries one `XREAD` returns.
   *
   * @defaultValue the server's `batchSize` (100)
   */
  batchSize?: number;
  /**
   * How long one `XREAD` blocks waiting for new entries.
   *
   * @defaultValue the server's `blockMs` (5000)
   */
  blockMs?: number;
  /**
   * Most handlers running at once for the stream; reading pauses while all run.
   *
   * @defaultValue the server's `concurrency` (200)
   */
  concurrency?: number;
  /**
   * Hands the handler the argo-events event of each entry instead of its payload.
   *
   * @defaultValue the server's `envelope` (unset: the payload)
   */
  envelope?: EnvelopeOption;
}

/** Options of {@link RedisStreamsServer}. */
export interface RedisStreamsServerOptions extends StreamHandlerOptions {
  /**
   * Redis to read from.
   *
   * @defaultValue `{ host: 'localhost', port: 6379 }`
   */
  connection?: RedisConnection;
  /** Consumer group; one per service. Every group receives every entry. */
  group: string;
  /**
   * Consumer name inside the group. Keep it stable across restarts of one
   * instance (a pod name) so unfinished work resumes at once.
   *
   * @defaultValue `<hostname>-<pid>-<random>`
   */
  consumer?: string;
  /**
   * Where a newly created group starts.
   *
   * @defaultValue 'latest'
   */
  startFrom?: GroupStart;
  /**
   * Create missing streams, or wait for them.
   *
   * @defaultValue 'create'
   */
  missingStream?: MissingStreamPolicy;
  /**
   * How often to look for missing streams when `missingStream` is `wait`,
   * and at broadcast streams that read nothing since the last look, for
   * having been deleted or recreated (one `XINFO STREAM` each).
   *
   * @defaultValue 5000
   */
  streamWaitIntervalMs?: number;
  /**
   * Time `close()` waits for running handlers before it quits.
   *
   * @defaultValue 10000
   */
  shutdownTimeoutMs?: number;
  /**
   * Time `listen()` waits for Redis before it fails.
   *
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * Consumers of the group idle this long with nothing pending are deleted;
   * `0` keeps them.
   *
   * @defaultValue 3600000
   */
  idleConsumerCleanupMs?: number;
  /** Turns the decoded packet into what the handler receives. */
  deserializer?: ConsumerDeserializer;
  /**
   * OpenTelemetry metrics and traces, when `@opentelemetry/api` is installed
   * and an SDK registered; `false` turns them off.
   *
   * @defaultValue `{ metrics: true, traces: true, perConsumer: false, gaugeIntervalMs: 15000 }`
   */
  telemetry?: ServerTelemetryOptions | false;
}
