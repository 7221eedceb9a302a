import { readFileSync } from 'node:fs';
import type * as OtelApiModule from '@opentelemetry/api';

/** The `@opentelemetry/api` module. */
export type OtelApi = typeof OtelApiModule;

/** The instrumentation scope's name: every meter and tracer of this package. */
export const INSTRUMENTATION_NAME = 'nestjs-redis-streams';

let loading: Promise<OtelApi | undefined> | undefined;

/**
 * Loads `@opentelemetry/api` once (an optional peer: undefined when it is not
 * installed). Called when a server starts listening or a client connects,
 * never on import of the package.
 */
export function loadOtelApi(): Promise<OtelApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return loading;
}

/** Whether an SDK registered a global tracer provider (the API's own proxy delegates to its no-op until then). */
export function hasTracerProvider(api: OtelApi): boolean {
  const provider = api.trace.getTracerProvider();
  if (!(provider instanceof api.ProxyTracerProvider)) return true;
  return provider.getDelegate() !== new api.ProxyTracerProvider().getDelegate();
}

/** Whether a meter comes from a registered SDK (the API hands out its one no-op meter until then). */
export function isRealMeter(api: OtelApi, meter: OtelApiModule.Meter): boolean {
  return meter !== api.createNoopMeter();
}

let version: string | undefined;

/** This package's version, for the instrumentation scope; read once. */
export function packageVersion(): string | undefined {
  if (version !== undefined) return version;
  try {
    // src/telemetry/ and dist/telemetry/ both sit two folders below package.json.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    version = (JSON.parse(text) as { version?: string }).version;
  } catch {
    version = undefined;
  }
  return version;
}
