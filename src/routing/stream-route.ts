import { LIST_PATTERN_PREFIX, STREAM_PATTERN_PREFIX } from '../constants.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';

/** A pattern that names a stream (`stream:<key>`), read through a consumer group. */
export interface StreamRoute {
  readonly kind: 'stream';
  /** The stream key, as written after the `stream:` prefix. */
  readonly key: string;
}

/** A pattern that names a Redis list consumed as a work queue (`list:<key>`). */
export interface ListRoute {
  readonly kind: 'list';
  /** The list key, as written after the `list:` prefix. */
  readonly key: string;
}

/** Every route a pattern can name. */
export type Route = StreamRoute | ListRoute;

const PREFIXES = [
  { prefix: STREAM_PATTERN_PREFIX, kind: 'stream', noun: 'stream', example: 'orders' },
  { prefix: LIST_PATTERN_PREFIX, kind: 'list', noun: 'list', example: 'jobs' },
] as const;

/**
 * The route a handler's pattern names, or `undefined` for a pattern of another
 * transport (anything without the `stream:` or `list:` prefix), which is left alone.
 *
 * @param pattern - a pattern from Nest's handler map, as a string
 * @throws InvalidOptionsError (option: the pattern) when the prefix names no key (`"stream:"`, `"list:"`)
 * @example
 * ```ts
 * parsePattern('stream:orders'); // { kind: 'stream', key: 'orders' }
 * parsePattern('list:jobs'); // { kind: 'list', key: 'jobs' }
 * parsePattern('orders.created'); // undefined
 * ```
 */
export function parsePattern(pattern: unknown): Route | undefined {
  const found = splitPattern(pattern);
  if (found === undefined) return undefined;
  const { kind, key, prefix, noun, example } = found;
  if (key.length === 0) {
    throw new InvalidOptionsError(String(pattern), `name a ${noun} after "${prefix}", e.g. "${prefix}${example}"`);
  }
  return { kind, key };
}

/**
 * The route an `emit()` (or a `send()`) writes to; unlike a handler's
 * pattern, one of another transport is a mistake here.
 *
 * @param operation - names the call in the error
 * @throws InvalidOptionsError (option: `pattern`) unless the pattern is `stream:<key>` or `list:<key>`
 */
export function parseEmitPattern(pattern: unknown, operation = 'emit()'): Route {
  const found = splitPattern(pattern);
  if (found === undefined || found.key.length === 0) {
    throw new InvalidOptionsError(
      'pattern',
      `${operation} needs a pattern of the form "${STREAM_PATTERN_PREFIX}<key>" or "${LIST_PATTERN_PREFIX}<key>", got ${JSON.stringify(pattern)}`,
    );
  }
  return { kind: found.kind, key: found.key };
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

/**
 * The pattern that names a list queue; `parsePattern` of it gives the key back.
 *
 * @example
 * ```ts
 * listPattern('jobs'); // 'list:jobs'
 * ```
 */
export function listPattern(key: string): string {
  return `${LIST_PATTERN_PREFIX}${key}`;
}

/** The prefix a pattern starts with and the text after it (possibly empty), or `undefined` without one. */
function splitPattern(pattern: unknown): ((typeof PREFIXES)[number] & { readonly key: string }) | undefined {
  if (typeof pattern !== 'string') return undefined;
  const found = PREFIXES.find(({ prefix }) => pattern.startsWith(prefix));
  return found === undefined ? undefined : { ...found, key: pattern.slice(found.prefix.length) };
}
