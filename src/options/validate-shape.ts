import { InvalidOptionsError } from '../errors/invalid-options.error.js';

/** What a value is, for error messages: never the value itself when it is not a plain scalar. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'symbol') return 'a symbol';
  return `${value as number | boolean | bigint | undefined}`;
}

/** Whether a value is an object literal (not null, an array, a function or a class instance like a Redis client). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an optional nested options object (`retry`, `deadLetter`) and that it
 * holds only the keys it may.
 *
 * @returns the object, or an empty one when unset
 * @throws InvalidOptionsError naming the option, what it expects and any unknown key
 */
export function optionsObject(option: string, value: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new InvalidOptionsError(option, `must be an object such as ${example}, got ${describeValue(value)}`);
  }
  onlyKnownKeys(`${option}.`, value, allowed);
  return value;
}

/**
 * Refuses keys an options object does not have: a typo (`concurency`) or a
 * driver setting at the top level would otherwise be ignored without a word.
 *
 * @param prefix - put before a key to name it in messages (`retry.`, `@EventPattern("stream:orders") extras: `)
 */
export function onlyKnownKeys(prefix: string, value: object, allowed: readonly string[], hint = ''): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const name = `${prefix}${key}`;
    const near = allowed.find((known) => known.toLowerCase() === key.toLowerCase() || editDistance(known, key) <= 2);
    throw new InvalidOptionsError(
      name,
      `is not an option${near === undefined ? '' : `; did you mean "${near}"?`} Known: ${allowed.join(', ')}.${hint}`,
    );
  }
}

/** Checks an optional object that must have a method of the given name (a serializer, a deserializer). */
export function objectWithMethod<T>(option: string, value: unknown, method: string, parameters = '()'): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[method] !== 'function') {
    const got = typeof value === 'object' && value !== null ? `an object without ${method}()` : describeValue(value);
    throw new InvalidOptionsError(option, `must be an object with a ${method}${parameters} function, got ${got}`);
  }
  return value as T;
}

/** Levenshtein distance, for "did you mean" hints on short option names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
