import type { Attributes, Context, Histogram, Meter, Span, Tracer } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.js';
import {
  AGE_BUCKETS_S,
  ATTR_CLIENT_ID,
  ATTR_CONSUMER_GROUP_NAME,
  ATTR_DEAD_LETTER_REASON,
  ATTR_DEAD_LETTER_STREAM,
  ATTR_DELAY_MS,
  ATTR_DELIVERY_COUNT,
  ATTR_DESTINATION_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGE_ID,
  ATTR_MESSAGING_SYSTEM,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  ATTR_OUTCOME,
  ATTR_RECLAIMED_FROM,
  DELIVERY_BUCKETS,
  DURATION_BUCKETS_S,
  EVENT_DEAD_LETTER,
  EVENT_RECLAIMED,
  EVENT_RELEASED,
  EVENT_LEASE_LOST,
  EVENT_RETRY,
  MESSAGING_SYSTEM,
  METRIC_CONSUMED,
  METRIC_DELIVERY_COUNT,
  METRIC_MESSAGE_AGE,
  METRIC_PROCESS_DURATION,
  METRIC_RECLAIMED,
  METRIC_SETTLED,
} from './semantic-names.js';
import type { DeliveryTelemetry, DeliveryTrace, SettleDetail, SettleOutcome } from './telemetry.js';
import { errorTypeOf, metadataGetter, millisOfRedisId } from './trace-carrier.js';

/**
 * The consumer-side instruments of a server, made once per server. The
 * counters are observable: each stream counts in plain numbers and the
 * collection reads them, because an SDK's `add()` hashes its attributes on
 * every call (about a microsecond and a half each, measured); the exported
 * data (a monotonic sum) is the same as a synchronous counter's.
 */
export interface DeliveryInstruments {
  readonly processDuration: Histogram;
  readonly deliveryCount: Histogram;
  readonly messageAge: Histogram;
  /**
   * The counts behind the counters, one per attribute set: servers of one
   * process that report the same series add to the same counts.
   */
  readonly series: Map<string, SeriesCounts>;
}

/** The counts of one series (one stream or list, group, and consumer with `perConsumer`), and their attributes. */
interface SeriesCounts {
  readonly consumedAttributes: Attributes;
  readonly processAttributes: Attributes;
  readonly outcomeAttributes: Readonly<Record<SettleOutcome, Attributes>>;
  consumed: number;
  reclaimed: number;
  readonly settled: Record<SettleOutcome, number>;
}

const OUTCOMES: readonly SettleOutcome[] = ['ack', 'retry', 'dead_letter', 'released', 'deleted', 'lease_lost'];

/** One set of instruments per meter (so per process, normally), shared by every server. */
const instrumentsOfMeter = new WeakMap<Meter, DeliveryInstruments>();

/** The consumer-side instruments on `meter`, created on first use. */
export function deliveryInstrumentsOf(meter: Meter): DeliveryInstruments {
  let instruments = instrumentsOfMeter.get(meter);
  if (instruments === undefined) {
    instruments = createDeliveryInstruments(meter);
    instrumentsOfMeter.set(meter, instruments);
  }
  return instruments;
}

function createDeliveryInstruments(meter: Meter): DeliveryInstruments {
  const consumed = meter.createObservableCounter(METRIC_CONSUMED, {
    unit: '{message}',
    description: 'Number of messages delivered to the application.',
  });
  const settled = meter.createObservableCounter(METRIC_SETTLED, {
    unit: '{message}',
    description:
      'Entries settled, by outcome: ack, retry, dead_letter, released (at shutdown), deleted (trimmed while pending), lease_lost (left to another consumer).',
  });
  const reclaimed = meter.createObservableCounter(METRIC_RECLAIMED, {
    unit: '{message}',
    description: 'Deliveries taken over from other consumers (pending entries claimed after claimIdleMs).',
  });
  const series = new Map<string, SeriesCounts>();
  meter.addBatchObservableCallback(
    (result) => {
      for (const counts of series.values()) {
        if (counts.consumed > 0) result.observe(consumed, counts.consumed, counts.consumedAttributes);
        if (counts.reclaimed > 0) result.observe(reclaimed, counts.reclaimed, counts.processAttributes);
        for (const outcome of OUTCOMES) {
          const count = counts.settled[outcome];
          if (count > 0) result.observe(settled, count, counts.outcomeAttributes[outcome]);
        }
      }
    },
    [consumed, settled, reclaimed],
  );
  return {
    processDuration: meter.createHistogram(METRIC_PROCESS_DURATION, {
      unit: 's',
      description: 'Duration of processing operations: from the start of a delivery to its settlement.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    deliveryCount: meter.createHistogram(METRIC_DELIVERY_COUNT, {
      unit: '{delivery}',
      description: "Redis' delivery count of each delivery (1 on the first).",
      advice: { explicitBucketBoundaries: DELIVERY_BUCKETS },
    }),
    messageAge: meter.createHistogram(METRIC_MESSAGE_AGE, {
      unit: 's',
      description: 'Age of an entry when delivered: now minus the time in its id (streams only).',
      advice: { explicitBucketBoundaries: AGE_BUCKETS_S },
    }),
    series,
  };
}

/** Who consumes: the destination as the user named it, the group (none for broadcast reads), the consumer. */
export interface ConsumerIdentity {
  readonly destination: string;
  readonly group: string | undefined;
  readonly consumer: string;
  /** Whether entry ids carry a time (streams), so that the message age is known. */
  readonly hasEntryIds: boolean;
  /** Add the consumer name to every series. */
  readonly perConsumer: boolean;
}

/** A delivery under observation. */
class OtelDeliveryTrace implements DeliveryTrace {
  constructor(
    readonly startedAt: number,
    readonly span: Span | undefined,
    readonly context: Context | undefined,
  ) {}
}

/** Most distinct error types with attribute sets of their own, per stream; later ones share `_OTHER`. */
const MAX_ERROR_TYPES = 32;

/**
 * The telemetry of one bound stream or list: its attribute sets are built
 * once here, never per entry.
 */
export class OtelDeliveryTelemetry implements DeliveryTelemetry {
  readonly isOn = true;
  private readonly spanName: string;
  private readonly spanAttributes: Attributes;
  private readonly processAttributes: Attributes;
  private readonly failedAttributes = new Map<string, Attributes>();
  /** The counts behind the counters (shared with other servers reporting the same series); undefined without metrics. */
  private readonly counts: SeriesCounts | undefined;

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer | undefined,
    private readonly instruments: DeliveryInstruments | undefined,
    private readonly identity: ConsumerIdentity,
  ) {
    const { destination, group, consumer, perConsumer } = identity;
    const base: Attributes = { [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM, [ATTR_DESTINATION_NAME]: destination };
    if (group !== undefined) base[ATTR_CONSUMER_GROUP_NAME] = group;
    if (perConsumer) base[ATTR_CLIENT_ID] = consumer;
    this.spanName = `process ${destination}`;
    this.spanAttributes = {
      ...base,
      [ATTR_CLIENT_ID]: consumer,
      [ATTR_OPERATION_NAME]: 'process',
      [ATTR_OPERATION_TYPE]: 'process',
    };
    this.processAttributes = { ...base, [ATTR_OPERATION_NAME]: 'process' };
    this.counts = instruments === undefined ? undefined : countsOf(instruments, base, this.processAttributes);
  }

  begin(id: string | undefined, deliveries: number, metadata: Record<string, unknown> | undefined, reclaimedFrom?: string): DeliveryTrace {
    const { api, tracer, instruments, counts } = this;
    let span: Span | undefined;
    let context: Context | undefined;
    if (tracer !== undefined) {
      // A child of the producer's send span when the entry carries its context; a root otherwise.
      const parent = metadata === undefined ? api.ROOT_CONTEXT : api.propagation.extract(api.ROOT_CONTEXT, metadata, metadataGetter);
      span = tracer.startSpan(this.spanName, { kind: api.SpanKind.CONSUMER, attributes: this.spanAttributes }, parent);
      if (id !== undefined) span.setAttribute(ATTR_MESSAGE_ID, id);
      span.setAttribute(ATTR_DELIVERY_COUNT, deliveries);
      if (reclaimedFrom !== undefined) span.addEvent(EVENT_RECLAIMED, { [ATTR_RECLAIMED_FROM]: reclaimedFrom });
      context = api.trace.setSpan(parent, span);
    }
    if (instruments !== undefined && counts !== undefined) {
      counts.consumed += 1;
      instruments.deliveryCount.record(deliveries, this.processAttributes);
      const addedAt = id !== undefined && this.identity.hasEntryIds ? millisOfRedisId(id) : undefined;
      if (addedAt !== undefined) instruments.messageAge.record(Math.max(0, Date.now() - addedAt) / 1000, this.processAttributes);
      if (reclaimedFrom !== undefined) counts.reclaimed += 1;
    }
    return new OtelDeliveryTrace(performance.now(), span, context);
  }

  within<A extends unknown[], R>(trace: DeliveryTrace | undefined, fn: (...args: A) => R, ...args: A): R {
    const context = (trace as OtelDeliveryTrace | undefined)?.context;
    return context === undefined ? fn(...args) : this.api.context.with(context, fn, undefined, ...args);
  }

  settle(trace: DeliveryTrace | undefined, outcome: SettleOutcome | undefined, failure?: unknown, detail?: SettleDetail): void {
    const { instruments } = this;
    const errorType = failure === undefined ? undefined : errorTypeOf(failure);
    const observed = trace as OtelDeliveryTrace | undefined;
    const span = observed?.span;
    if (span !== undefined) {
      if (outcome === 'retry') span.addEvent(EVENT_RETRY, { [ATTR_DELAY_MS]: detail?.delayMs ?? 0 });
      else if (outcome === 'dead_letter') {
        span.addEvent(EVENT_DEAD_LETTER, {
          [ATTR_DEAD_LETTER_STREAM]: detail?.target ?? '',
          [ATTR_DEAD_LETTER_REASON]: detail?.reason ?? '',
        });
      } else if (outcome === 'released') span.addEvent(EVENT_RELEASED);
      else if (outcome === 'lease_lost') span.addEvent(EVENT_LEASE_LOST);
      if (errorType !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        span.setStatus({ code: this.api.SpanStatusCode.ERROR });
      }
      span.end();
    }
    if (instruments === undefined) return;
    if (observed !== undefined) {
      const seconds = (performance.now() - observed.startedAt) / 1000;
      instruments.processDuration.record(seconds, errorType === undefined ? this.processAttributes : this.failedAttributesOf(errorType));
    }
    if (outcome !== undefined && this.counts !== undefined) this.counts.settled[outcome] += 1;
  }

  count(outcome: SettleOutcome, n: number): void {
    if (this.counts !== undefined) this.counts.settled[outcome] += n;
  }

  detached<R>(fn: () => R): R {
    return this.api.context.with(this.api.ROOT_CONTEXT, fn);
  }

  private failedAttributesOf(errorType: string): Attributes {
    let attributes = this.failedAttributes.get(errorType);
    if (attributes === undefined) {
      const type = this.failedAttributes.size < MAX_ERROR_TYPES ? errorType : '_OTHER';
      attributes = this.failedAttributes.get(type) ?? { ...this.processAttributes, [ATTR_ERROR_TYPE]: type };
      this.failedAttributes.set(type, attributes);
    }
    return attributes;
  }
}

/**
 * The counts of the series with attributes `base`, made on first use: a
 * closed server's totals stay (cumulative counters never go back), and a
 * later server of the same series adds to them.
 */
function countsOf(instruments: DeliveryInstruments, base: Attributes, processAttributes: Attributes): SeriesCounts {
  const key = JSON.stringify([base[ATTR_DESTINATION_NAME], base[ATTR_CONSUMER_GROUP_NAME] ?? null, base[ATTR_CLIENT_ID] ?? null]);
  let counts = instruments.series.get(key);
  if (counts === undefined) {
    const outcome = (name: SettleOutcome): Attributes => ({ ...base, [ATTR_OUTCOME]: name });
    counts = {
      consumedAttributes: { ...base, [ATTR_OPERATION_NAME]: 'receive' },
      processAttributes,
      outcomeAttributes: {
        ack: outcome('ack'),
        retry: outcome('retry'),
        dead_letter: outcome('dead_letter'),
        released: outcome('released'),
        deleted: outcome('deleted'),
        lease_lost: outcome('lease_lost'),
      },
      consumed: 0,
      reclaimed: 0,
      settled: { ack: 0, retry: 0, dead_letter: 0, released: 0, deleted: 0, lease_lost: 0 },
    };
    instruments.series.set(key, counts);
  }
  return counts;
}
