import { InvalidOptionsError } from '../errors/redis-streams.error.js';

/** Checks an optional whole number and returns it or the default. */
export function wholeNumber(
  option: string,
  value: unknown,
  defaultValue: number,
  minimum: number,
): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new InvalidOptionsError(
      option,
      `must be a whole number >= ${minimum}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Checks an optional number in a closed range and returns it or the default. */
export function numberInRange(
  option: string,
  value: unknown,
  defaultValue: number,
  range: readonly [number, number],
): number {
  if (value === undefined) return defaultValue;
  const [low, high] = range;
  if (typeof value !== 'number' || Number.isNaN(value) || value < low || value > high) {
    throw new InvalidOptionsError(
      option,
      `must be a number from ${low} to ${high}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Checks an optional value against a list of allowed strings. */
export function oneOf<T extends string>(
  option: string,
  value: unknown,
  defaultValue: T,
  allowed: readonly T[],
): T {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionsError(
      option,
      `must be one of ${allowed.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** Checks an optional non-empty string. */
export function nonEmptyString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(option, 'must be a non-empty string');
  }
  return value;
}

/** Checks an optional object of options (not null, not an array). */
export function optionsObject<T extends object>(option: string, value: unknown, what: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError(option, `must be an object of ${what}, got ${kindOf(value)}`);
  }
  return value as T;
}

/** Checks an optional object that must have a function named `method` (a serializer, a deserializer). */
export function objectWithMethod<T extends object>(
  option: string,
  value: unknown,
  method: string,
  parameters = '()',
): T | undefined {
  if (value === undefined) return undefined;
  const isObject = typeof value === 'object' && value !== null;
  if (!isObject || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new InvalidOptionsError(
      option,
      `must be an object with a ${method}${parameters} function, got ${isObject ? `an object without ${method}()` : kindOf(value)}`,
    );
  }
  return value as T;
}

/**
 * What kind of value was given, for messages: never the value of a string,
 * which may be a URL with a password in it.
 */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}
