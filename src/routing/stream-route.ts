import { STREAM_PATTERN_PREFIX } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';

/** Where a pattern of this transport leads: for now, one stream key. */
export interface StreamRoute {
  readonly kind: 'stream';
  /** The stream key, as written after the `stream:` prefix. */
  readonly key: string;
}

/** Every route a pattern can name. */
export type Route = StreamRoute;

/**
 * The route a handler's pattern names, or `undefined` for a pattern of another
 * transport (anything without the `stream:` prefix), which is left alone.
 *
 * @param pattern - a pattern from Nest's handler map, as a string
 * @throws InvalidOptionsError (option: the pattern) when the prefix names no stream (`"stream:"`)
 * @example
 * ```ts
 * parsePattern('stream:orders'); // { kind: 'stream', key: 'orders' }
 * parsePattern('orders.created'); // undefined
 * ```
 */
export function parsePattern(pattern: unknown): Route | undefined {
  const key = keyAfterPrefix(pattern);
  if (key === undefined) return undefined;
  if (key.length === 0) {
    throw new InvalidOptionsError(String(pattern), `name a stream after "${STREAM_PATTERN_PREFIX}", e.g. "${STREAM_PATTERN_PREFIX}orders"`);
  }
  return { kind: 'stream', key };
}

/**
 * The route an `emit()` (or a `send()`) writes to; unlike a handler's
 * pattern, one of another transport is a mistake here.
 *
 * @param operation - names the call in the error
 * @throws InvalidOptionsError (option: `pattern`) unless the pattern is `stream:<key>`
 */
export function parseEmitPattern(pattern: unknown, operation = 'emit()'): Route {
  const key = keyAfterPrefix(pattern);
  if (key === undefined || key.length === 0) {
    throw new InvalidOptionsError(
      'pattern',
      `${operation} needs a pattern of the form "${STREAM_PATTERN_PREFIX}<key>", got ${JSON.stringify(pattern)}`,
    );
  }
  return { kind: 'stream', key };
}

/**
 * The pattern that names a stream; `parsePattern` of it gives the key back.
 *
 * @example
 * ```ts
 * streamPattern('orders'); // 'stream:orders'
 * ```
 */
export function streamPattern(key: string): string {
  return `${STREAM_PATTERN_PREFIX}${key}`;
}

/** The text after the `stream:` prefix (possibly empty), or `undefined` without the prefix. */
function keyAfterPrefix(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || !pattern.startsWith(STREAM_PATTERN_PREFIX)) return undefined;
  return pattern.slice(STREAM_PATTERN_PREFIX.length);
}
