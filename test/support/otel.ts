import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A metric reader that collects when a test asks. */
class OnDemandReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** An OpenTelemetry SDK registered for one spec file: finished spans in memory, metrics collected on demand. */
export interface OtelSdk {
  /** Spans ended so far (since the last {@link reset}). */
  spans(): ReadableSpan[];
  /** Ended spans named `name`. */
  spansNamed(name: string): ReadableSpan[];
  /** Collects every metric now. */
  collect(): Promise<MetricData[]>;
  /** Forgets the spans ended so far. */
  reset(): void;
}

/** Registers an SDK (tracer and meter providers, W3C propagator, AsyncLocalStorage context) for the spec file; disables it after. */
export function useOtelSdk(): OtelSdk {
  const exporter = new InMemorySpanExporter();
  const reader = new OnDemandReader();
  let tracerProvider: BasicTracerProvider | undefined;
  let meterProvider: MeterProvider | undefined;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(tracerProvider);
    meterProvider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(meterProvider);
  });

  afterEach(() => exporter.reset());

  afterAll(async () => {
    await tracerProvider?.shutdown();
    await meterProvider?.shutdown();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  });

  return {
    spans: () => exporter.getFinishedSpans(),
    spansNamed: (name) => exporter.getFinishedSpans().filter((span) => span.name === name),
    async collect() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    },
    reset: () => exporter.reset(),
  };
}

/** The data points of metric `name` whose attributes include `match`. */
export function pointsOf(collected: MetricData[], name: string, match: Attributes = {}): Array<DataPoint<number | Histogram>> {
  const metric = collected.find((m) => m.descriptor.name === name);
  if (metric === undefined) return [];
  const points = metric.dataPoints as Array<DataPoint<number | Histogram>>;
  return points.filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value));
}

/** The sum of a counter's points (or the count of a histogram's) matching `match`. */
export function totalOf(collected: MetricData[], name: string, match: Attributes = {}): number {
  return pointsOf(collected, name, match).reduce(
    (sum, point) => sum + (typeof point.value === 'number' ? point.value : point.value.count),
    0,
  );
}

/** The last value of a gauge matching `match`, or undefined. */
export function gaugeOf(collected: MetricData[], name: string, match: Attributes = {}): number | undefined {
  const point = pointsOf(collected, name, match).at(-1);
  return point === undefined ? undefined : (point.value as number);
}
