/**
 * OpenTelemetry for a server (`telemetry` option). Takes effect when
 * `@opentelemetry/api` is installed and an SDK is registered; without them it
 * costs nothing. `false` turns everything off.
 */
export interface ServerTelemetryOptions {
  /**
   * Record metrics: the messaging semantic-convention series and the `nrs.*`
   * series (see the README's "Telemetry" section), gauges included.
   *
   * @defaultValue true
   */
  readonly metrics?: boolean;
  /**
   * Start a `process <stream>` span (kind consumer) per delivery, a child of
   * the producer's `send` span when the entry carries its trace context.
   *
   * @defaultValue true
   */
  readonly traces?: boolean;
  /**
   * Add the consumer name (`messaging.client.id`) to every series and record
   * `nrs.consumer.pending` per consumer: one series per consumer, so off by
   * default (consumer names change with every restart unless they are fixed).
   *
   * @defaultValue false
   */
  readonly perConsumer?: boolean;
  /**
   * How often the gauges (stream length, lag, pending, dead-letter length,
   * list lengths) are read from Redis, on the command connection. The
   * metric reader reports the last figures read.
   *
   * @defaultValue 15000
   */
  readonly gaugeIntervalMs?: number;
}

/**
 * OpenTelemetry for a client (`telemetry` option): a `send <stream>` span per
 * `emit()`/`send()`, its context written into the entry's metadata, and the
 * `messaging.client.sent.messages` counter. `false` turns everything off.
 */
export interface ClientTelemetryOptions {
  /**
   * Count sent messages (`messaging.client.sent.messages`).
   *
   * @defaultValue true
   */
  readonly metrics?: boolean;
  /**
   * Start a `send <stream>` span (kind producer) per emit and request, and
   * write its W3C trace context (`traceparent`, `tracestate`) into the
   * entry's metadata.
   *
   * @defaultValue true
   */
  readonly traces?: boolean;
}
