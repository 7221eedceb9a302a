import { InvalidOptionsError } from '../../../src/index.js';
import { resolveClientTelemetry, resolveServerTelemetry } from '../../../src/options/resolve-telemetry-options.js';
import { resolveServerOptions } from '../../../src/options/resolve-server-options.js';
import { resolveClientOptions } from '../../../src/options/resolve-client-options.js';

describe('telemetry option resolution', () => {
  it('fills the defaults', () => {
    expect(resolveServerTelemetry(undefined)).toEqual({ metrics: true, traces: true, perConsumer: false, gaugeIntervalMs: 15_000 });
    expect(resolveServerTelemetry({ traces: undefined })).toEqual({
      metrics: true,
      traces: true,
      perConsumer: false,
      gaugeIntervalMs: 15_000,
    });
    expect(resolveClientTelemetry(undefined)).toEqual({ metrics: true, traces: true });
    expect(resolveServerOptions({ group: 'g' }).telemetry.metrics).toBe(true);
  });

  it('turns everything off with false, and keeps given values', () => {
    expect(resolveServerTelemetry(false)).toMatchObject({ metrics: false, traces: false });
    expect(resolveClientTelemetry(false)).toEqual({ metrics: false, traces: false });
    expect(resolveServerTelemetry({ metrics: false, perConsumer: true, gaugeIntervalMs: 500 })).toEqual({
      metrics: false,
      traces: true,
      perConsumer: true,
      gaugeIntervalMs: 500,
    });
  });

  it.each([
    [{ telemetry: true }, 'telemetry', /must be an object/],
    [{ telemetry: { metrics: 'yes' } }, 'telemetry.metrics', /true or false/],
    [{ telemetry: { gaugeIntervalMs: 10 } }, 'telemetry.gaugeIntervalMs', />= 100/],
    [{ telemetry: { gaugeIntervalMs: 1.5 } }, 'telemetry.gaugeIntervalMs', /whole number/],
    [{ telemetry: { perconsumer: true } }, 'telemetry.perconsumer', /did you mean "perConsumer"/],
  ])('refuses %j, naming %s', (options, option, reason) => {
    const resolve = () => resolveServerOptions({ group: 'g', ...(options as object) });
    expect(resolve).toThrow(InvalidOptionsError);
    expect(resolve).toThrow(reason);
    try {
      resolve();
    } catch (error) {
      expect((error as InvalidOptionsError).option).toBe(option);
    }
  });

  it('refuses server-only fields on a client', () => {
    expect(() => resolveClientOptions({ telemetry: { perConsumer: true } as never })).toThrow(/telemetry\.perConsumer/);
  });
});
