import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** The metadata map of an entry, as the propagator reads and writes it. */
export type MetadataCarrier = Record<string, unknown>;

/** Reads W3C keys (`traceparent`, `tracestate`) from an entry's metadata; only string values count. */
export const metadataGetter: TextMapGetter<MetadataCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/** Writes the propagator's keys into an entry's metadata. */
export const metadataSetter: TextMapSetter<MetadataCarrier> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The error.type of a failure: the error's class name (`HandlerTimeoutError`),
 * a string as it is (the transport's own reasons), `_OTHER` for other values that are not errors (NestJS hands a handler's failure
 * on as a plain `{ status, message }`); never the message.
 */
export function errorTypeOf(failure: unknown): string {
  // Our own failures without an error object name themselves ('undecodable', 'max_deliveries').
  if (typeof failure === 'string') return failure;
  if (failure instanceof Error) return failure.name || failure.constructor.name || 'Error';
  return '_OTHER';
}

/**
 * The millisecond time of an entry id as Redis replies with it
 * (`1700000000000-0`), or undefined. Faster than codec's `entryIdMs`, which
 * validates ids users typed: this runs per entry, on ids Redis generated.
 */
export function millisOfRedisId(id: string): number | undefined {
  const dash = id.indexOf('-');
  const ms = Number(dash === -1 ? id : id.slice(0, dash));
  return ms > 0 ? ms : undefined;
}
