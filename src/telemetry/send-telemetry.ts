import type { Attributes, Meter, Span, Tracer } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.js';
import {
  ATTR_DESTINATION_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGE_ID,
  ATTR_MESSAGING_SYSTEM,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  METRIC_SENT,
} from './semantic-names.js';
import type { SendTelemetry } from './telemetry.js';
import { errorTypeOf, metadataSetter } from './trace-carrier.js';

/** The sent counts of one destination, with their attributes: shared by every client of a process. */
interface SentSeries {
  readonly attributes: Attributes;
  sent: number;
  /** Failed writes per error type. */
  readonly failed: Map<string, { readonly attributes: Attributes; count: number }>;
}

/** The counts behind `messaging.client.sent.messages`, per destination. */
export type SentCounts = Map<string, SentSeries>;

/** Most error types counted apart per destination; later ones count as `_OTHER`. */
const MAX_ERROR_TYPES = 32;

const sentOfMeter = new WeakMap<Meter, SentCounts>();

/**
 * The sent counts on `meter`, with their observable counter, made once per
 * meter: plain numbers per write, read at collection (an SDK's `add()`
 * hashes its attributes on every call); exported as the same monotonic sum.
 */
export function sentCountsOf(meter: Meter): SentCounts {
  let counts = sentOfMeter.get(meter);
  if (counts !== undefined) return counts;
  const series: SentCounts = new Map();
  counts = series;
  sentOfMeter.set(meter, series);
  const counter = meter.createObservableCounter(METRIC_SENT, {
    unit: '{message}',
    description: 'Number of messages a producer attempted to send to Redis.',
  });
  counter.addCallback((result) => {
    for (const { attributes, sent, failed } of series.values()) {
      if (sent > 0) result.observe(sent, attributes);
      for (const failure of failed.values()) result.observe(failure.count, failure.attributes);
    }
  });
  return counts;
}

/** What is built once per destination a client writes to. */
interface Destination {
  readonly spanName: string;
  readonly spanAttributes: Attributes;
  readonly series: SentSeries | undefined;
}

/** Most destinations with attribute sets kept per client; a client writing to more builds the rest per write. */
const MAX_DESTINATIONS = 1_000;

/**
 * A client's `send <destination>` spans (kind producer) and sent counts.
 * The span's context is injected into a copy of the entry's metadata with
 * the global propagator (W3C `traceparent`/`tracestate` by default), and the
 * write runs inside it.
 */
export class OtelSendTelemetry implements SendTelemetry {
  readonly isOn = true;
  private readonly destinations = new Map<string, Destination>();

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer | undefined,
    private readonly counts: SentCounts | undefined,
  ) {}

  send<T>(
    destination: string,
    metadata: Record<string, unknown> | undefined,
    write: (metadata: Record<string, unknown> | undefined) => Promise<T>,
  ): Promise<T> {
    const { api, tracer } = this;
    const target = this.destinationOf(destination);
    let span: Span | undefined;
    let written: Promise<T>;
    if (tracer === undefined) written = write(metadata);
    else {
      span = tracer.startSpan(target.spanName, { kind: api.SpanKind.PRODUCER, attributes: target.spanAttributes });
      const context = api.trace.setSpan(api.context.active(), span);
      const carried: Record<string, unknown> = { ...metadata };
      api.propagation.inject(context, carried, metadataSetter);
      written = api.context.with(context, write, undefined, Object.keys(carried).length > 0 ? carried : metadata);
    }
    return written.then(
      (reply) => {
        if (span !== undefined) {
          if (typeof reply === 'string') span.setAttribute(ATTR_MESSAGE_ID, reply);
          span.end();
        }
        if (target.series !== undefined) target.series.sent += 1;
        return reply;
      },
      (error: unknown) => {
        const errorType = errorTypeOf(error);
        if (span !== undefined) {
          span.setAttribute(ATTR_ERROR_TYPE, errorType);
          span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        }
        if (target.series !== undefined) countFailure(target.series, errorType);
        throw error;
      },
    );
  }

  detached<R>(fn: () => R): R {
    return this.api.context.with(this.api.ROOT_CONTEXT, fn);
  }

  private destinationOf(name: string): Destination {
    const known = this.destinations.get(name);
    if (known !== undefined) return known;
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
      [ATTR_DESTINATION_NAME]: name,
      [ATTR_OPERATION_NAME]: 'send',
    };
    let series = this.counts?.get(name);
    if (this.counts !== undefined && series === undefined) {
      series = { attributes, sent: 0, failed: new Map() };
      this.counts.set(name, series);
    }
    const made: Destination = { spanName: `send ${name}`, spanAttributes: { ...attributes, [ATTR_OPERATION_TYPE]: 'send' }, series };
    if (this.destinations.size < MAX_DESTINATIONS) this.destinations.set(name, made);
    return made;
  }
}

function countFailure(series: SentSeries, errorType: string): void {
  const type = series.failed.has(errorType) || series.failed.size < MAX_ERROR_TYPES ? errorType : '_OTHER';
  const failure = series.failed.get(type);
  if (failure !== undefined) failure.count += 1;
  else series.failed.set(type, { attributes: { ...series.attributes, [ATTR_ERROR_TYPE]: type }, count: 1 });
}
