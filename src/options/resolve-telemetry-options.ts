import { DEFAULT_GAUGE_INTERVAL_MS } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { ClientTelemetryOptions, ServerTelemetryOptions } from '../interfaces/telemetry-options.interface.js';
import { wholeNumber } from './validate.js';
import { describeValue, optionsObject } from './validate-shape.js';

/** A server's telemetry settings, resolved. */
export interface ResolvedServerTelemetry {
  readonly metrics: boolean;
  readonly traces: boolean;
  readonly perConsumer: boolean;
  readonly gaugeIntervalMs: number;
}

/** A client's telemetry settings, resolved. */
export interface ResolvedClientTelemetry {
  readonly metrics: boolean;
  readonly traces: boolean;
}

const SERVER_KEYS = ['metrics', 'traces', 'perConsumer', 'gaugeIntervalMs'] as const satisfies ReadonlyArray<keyof ServerTelemetryOptions>;
const CLIENT_KEYS = ['metrics', 'traces'] as const satisfies ReadonlyArray<keyof ClientTelemetryOptions>;
const SERVER_EXAMPLE = '{ metrics: true, traces: true, perConsumer: false, gaugeIntervalMs: 15000 }, or false';
const CLIENT_EXAMPLE = '{ metrics: true, traces: true }, or false';

/**
 * Fills the defaults of a server's `telemetry` option and checks it.
 *
 * @throws InvalidOptionsError naming the bad field and what it expects
 */
export function resolveServerTelemetry(value: ServerTelemetryOptions | false | undefined): ResolvedServerTelemetry {
  if (value === false) return { metrics: false, traces: false, perConsumer: false, gaugeIntervalMs: DEFAULT_GAUGE_INTERVAL_MS };
  const given = optionsObject('telemetry', value, SERVER_KEYS, SERVER_EXAMPLE);
  return {
    metrics: flag('telemetry.metrics', given.metrics, true),
    traces: flag('telemetry.traces', given.traces, true),
    perConsumer: flag('telemetry.perConsumer', given.perConsumer, false),
    gaugeIntervalMs: wholeNumber('telemetry.gaugeIntervalMs', given.gaugeIntervalMs, DEFAULT_GAUGE_INTERVAL_MS, 100),
  };
}

/**
 * Fills the defaults of a client's `telemetry` option and checks it.
 *
 * @throws InvalidOptionsError naming the bad field and what it expects
 */
export function resolveClientTelemetry(value: ClientTelemetryOptions | false | undefined): ResolvedClientTelemetry {
  if (value === false) return { metrics: false, traces: false };
  const given = optionsObject('telemetry', value, CLIENT_KEYS, CLIENT_EXAMPLE);
  return {
    metrics: flag('telemetry.metrics', given.metrics, true),
    traces: flag('telemetry.traces', given.traces, true),
  };
}

function flag(option: string, value: unknown, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') throw new InvalidOptionsError(option, `must be true or false, got ${describeValue(value)}`);
  return value;
}
