import type { Logger } from '@nestjs/common';
import type { Meter, Tracer } from '@opentelemetry/api';
import type { RedisCommands } from '../connection/redis-client.js';
import type { ResolvedClientTelemetry, ResolvedServerTelemetry } from '../options/resolve-telemetry-options.js';
import { deliveryInstrumentsOf, OtelDeliveryTelemetry, type DeliveryInstruments } from './delivery-telemetry.js';
import { GaugeWatch } from './gauges.js';
import { hasTracerProvider, isRealMeter, INSTRUMENTATION_NAME, loadOtelApi, packageVersion, type OtelApi } from './otel-api.js';
import { OtelSendTelemetry, sentCountsOf } from './send-telemetry.js';
import {
  NOOP_SEND_TELEMETRY,
  NOOP_SERVER_TELEMETRY,
  type ConsumerOf,
  type DeliveryTelemetry,
  type GaugeTargets,
  type SendTelemetry,
  type ServerTelemetry,
} from './telemetry.js';

/** What is on once the API is loaded: a tracer and a meter when asked for and an SDK provides them. */
interface Providers {
  readonly api: OtelApi;
  readonly tracer: Tracer | undefined;
  readonly meter: Meter | undefined;
}

async function providersFor(options: { readonly metrics: boolean; readonly traces: boolean }): Promise<Providers | undefined> {
  if (!options.metrics && !options.traces) return undefined;
  const api = await loadOtelApi();
  if (api === undefined) return undefined;
  const version = packageVersion();
  // Without an SDK the API's own no-ops would still cost an object or two per
  // message; checked once here, so register the SDK before the app starts.
  const tracer = options.traces && hasTracerProvider(api) ? api.trace.getTracer(INSTRUMENTATION_NAME, version) : undefined;
  const found = options.metrics ? api.metrics.getMeter(INSTRUMENTATION_NAME, version) : undefined;
  const meter = found !== undefined && isRealMeter(api, found) ? found : undefined;
  if (tracer === undefined && meter === undefined) return undefined;
  return { api, tracer, meter };
}

/**
 * A server's telemetry: loads `@opentelemetry/api` (once per process) and
 * finds the registered SDK; a no-op when either is missing or `options`
 * turn everything off.
 */
export async function openServerTelemetry(options: ResolvedServerTelemetry): Promise<ServerTelemetry> {
  const providers = await providersFor(options);
  return providers === undefined ? NOOP_SERVER_TELEMETRY : new OtelServerTelemetry(providers, options);
}

/** A client's telemetry, found like the server's (see {@link openServerTelemetry}). */
export async function openClientTelemetry(options: ResolvedClientTelemetry): Promise<SendTelemetry> {
  const providers = await providersFor(options);
  if (providers === undefined) return NOOP_SEND_TELEMETRY;
  const { api, tracer, meter } = providers;
  return new OtelSendTelemetry(api, tracer, meter === undefined ? undefined : sentCountsOf(meter));
}

class OtelServerTelemetry implements ServerTelemetry {
  private readonly instruments: DeliveryInstruments | undefined;
  private gauges: GaugeWatch | undefined;

  constructor(
    private readonly providers: Providers,
    private readonly options: ResolvedServerTelemetry,
  ) {
    this.instruments = providers.meter === undefined ? undefined : deliveryInstrumentsOf(providers.meter);
  }

  forConsumer(of: ConsumerOf): DeliveryTelemetry {
    const { api, tracer } = this.providers;
    return new OtelDeliveryTelemetry(api, tracer, this.instruments, { ...of, perConsumer: this.options.perConsumer });
  }

  watchGauges(commands: RedisCommands, targets: Omit<GaugeTargets, 'perConsumer'>, logger: Logger): void {
    const { api, meter } = this.providers;
    if (meter === undefined || this.gauges !== undefined) return;
    this.gauges = new GaugeWatch(
      api,
      meter,
      commands,
      { ...targets, perConsumer: this.options.perConsumer },
      this.options.gaugeIntervalMs,
      logger,
    );
    this.gauges.start();
  }

  detached<R>(fn: () => R): R {
    const { api } = this.providers;
    return api.context.with(api.ROOT_CONTEXT, fn);
  }

  close(): void {
    this.gauges?.stop();
  }
}
