import type { Logger } from '@nestjs/common';
import type { RedisCommands } from '../connection/redis-client.js';

/**
 * What the consumers and the client see of telemetry: our own types only, so
 * that nothing outside src/telemetry/ names `@opentelemetry/api`, and no-op
 * objects used when it is not installed, no SDK is registered, or telemetry
 * is turned off. Callers test {@link DeliveryTelemetry.isOn} before doing
 * anything per message.
 */

/** How an entry left a consumer's hands (the `nrs.outcome` attribute). */
export type SettleOutcome = 'ack' | 'retry' | 'dead_letter' | 'released' | 'deleted' | 'lease_lost';

/** One delivery being observed (its span and start time); opaque outside src/telemetry/. */
export interface DeliveryTrace {
  readonly startedAt: number;
}

/** Why a delivery was settled the way it was, for its span's event. */
export interface SettleDetail {
  /** A retry's delay. */
  readonly delayMs?: number;
  /** A dead letter's target stream. */
  readonly target?: string;
  /** A dead letter's reason. */
  readonly reason?: string;
}

/** The telemetry of one bound stream or list queue, built once at start. */
export interface DeliveryTelemetry {
  /** False: every other method does nothing, and callers skip them. */
  readonly isOn: boolean;
  /**
   * Starts observing a delivery: its `process` span (a child of the trace
   * context in `metadata`, a root without one), the consumed counter, the
   * delivery-count and message-age histograms.
   *
   * @param id - the entry id (streams), undefined for list entries
   * @param reclaimedFrom - the consumer the delivery was claimed from, if any
   */
  begin(
    id: string | undefined,
    deliveries: number,
    metadata: Record<string, unknown> | undefined,
    reclaimedFrom?: string,
  ): DeliveryTrace | undefined;
  /** Runs `fn` inside the delivery's span context, so that the handler's spans nest in it. */
  within<A extends unknown[], R>(trace: DeliveryTrace | undefined, fn: (...args: A) => R, ...args: A): R;
  /**
   * Ends a delivery: the span (with an event for a retry or dead letter, and
   * the error status when it failed), the process duration, the outcome
   * counter (none for broadcast reads: `outcome` undefined).
   */
  settle(trace: DeliveryTrace | undefined, outcome: SettleOutcome | undefined, failure?: unknown, detail?: SettleDetail): void;
  /** Counts entries settled outside a delivery: trimmed while pending, released at shutdown. */
  count(outcome: SettleOutcome, n: number): void;
  /** Runs `fn` outside any request's trace context (the root context). */
  detached<R>(fn: () => R): R;
}

/** The telemetry of a client's writes. */
export interface SendTelemetry {
  readonly isOn: boolean;
  /**
   * Runs one write inside a `send <destination>` span: `write` gets the
   * metadata with the span's trace context added (a copy; `metadata` itself
   * is left alone) and resolves with the entry id (a stream) or length (a list).
   */
  send<T>(
    destination: string,
    metadata: Record<string, unknown> | undefined,
    write: (metadata: Record<string, unknown> | undefined) => Promise<T>,
  ): Promise<T>;
  /** Runs `fn` outside any request's trace context (the root context). */
  detached<R>(fn: () => R): R;
}

/** What a server's gauges read: its bound streams, broadcast streams and list queues. */
export interface GaugeTargets {
  readonly group: string;
  /** This instance's consumer name (the processing list is its own). */
  readonly consumer: string;
  readonly streams: ReadonlyArray<{ readonly stream: string; readonly deadLetterStream: string }>;
  readonly broadcastStreams: readonly string[];
  readonly lists: ReadonlyArray<{
    readonly list: string;
    readonly processing: string;
    readonly retry: string;
    readonly deadLetterStream: string;
  }>;
  readonly perConsumer: boolean;
}

/** Who consumes a stream or list, for its telemetry. */
export interface ConsumerOf {
  /** The stream or list key, as the handler's pattern names it. */
  readonly destination: string;
  /** Undefined for broadcast reads. */
  readonly group: string | undefined;
  readonly consumer: string;
  /** Streams: entry ids hold the time an entry was added. Lists: false. */
  readonly hasEntryIds: boolean;
}

/** A server's telemetry: one {@link DeliveryTelemetry} per bound stream or list, and its gauges. */
export interface ServerTelemetry {
  /** Telemetry of one bound stream or list; call once per binding at start. */
  forConsumer(of: ConsumerOf): DeliveryTelemetry;
  /** Starts reading the gauges (metrics on); stopped by {@link close}. */
  watchGauges(commands: RedisCommands, targets: Omit<GaugeTargets, 'perConsumer'>, logger: Logger): void;
  /** Runs `fn` outside any request's trace context: background loops start here. */
  detached<R>(fn: () => R): R;
  /** Stops the gauges. */
  close(): void;
}

const runDetached = <R>(fn: () => R): R => fn();

/** Telemetry of a stream that observes nothing. */
export const NOOP_DELIVERY_TELEMETRY: DeliveryTelemetry = {
  isOn: false,
  begin: () => undefined,
  within: (_trace, fn, ...args) => fn(...args),
  settle: () => undefined,
  count: () => undefined,
  detached: runDetached,
};

/** Telemetry of a client that observes nothing. */
export const NOOP_SEND_TELEMETRY: SendTelemetry = {
  isOn: false,
  send: (_destination, metadata, write) => write(metadata),
  detached: runDetached,
};

/** A server's telemetry that observes nothing. */
export const NOOP_SERVER_TELEMETRY: ServerTelemetry = {
  forConsumer: () => NOOP_DELIVERY_TELEMETRY,
  watchGauges: () => undefined,
  detached: runDetached,
  close: () => undefined,
};
