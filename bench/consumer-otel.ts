import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { oursConsumer } from './consumer-nest.js';
import type { RunningConsumer } from './consumers.js';
import type { Probe } from './probe.js';
import type { ConsumerJob } from './protocol.js';

const done = (callback: (result: ExportResult) => void): void => callback({ code: ExportResultCode.SUCCESS });

/** Takes spans and throws them away: what an exporter costs beyond the SDK is not ours to measure. */
const discardSpans: SpanExporter = {
  export: (_spans, callback) => done(callback),
  shutdown: () => Promise.resolve(),
};

/** Takes metrics and throws them away. */
const discardMetrics: PushMetricExporter = {
  export: (_metrics, callback) => done(callback),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

/**
 * ours-otel: ours-default with an OpenTelemetry SDK registered in this child
 * process before the app starts, as an app's main.ts would (NodeSDK does the same).
 */
export async function oursOtelConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discardSpans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 10_000 })],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  const consumer = await oursConsumer(job, probe, monitor);
  return {
    start: () => consumer.start(),
    async stop() {
      await consumer.stop();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
    unsettled: () => consumer.unsettled(),
  };
}
