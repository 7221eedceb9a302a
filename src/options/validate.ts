import { InvalidOptionsError } from '../errors/invalid-options.error.js';

/** Checks an optional whole number and returns it or the default. */
export function wholeNumber(option: string, value: unknown, defaultValue: number, minimum: number): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new InvalidOptionsError(option, `must be a whole number >= ${minimum}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an optional number in a closed range and returns it or the default. */
export function numberInRange(option: string, value: unknown, defaultValue: number, range: readonly [number, number]): number {
  if (value === undefined) return defaultValue;
  const [low, high] = range;
  if (typeof value !== 'number' || Number.isNaN(value) || value < low || value > high) {
    throw new InvalidOptionsError(option, `must be a number from ${low} to ${high}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an optional value against a list of allowed strings. */
export function oneOf<T extends string>(option: string, value: unknown, defaultValue: T, allowed: readonly T[]): T {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionsError(option, `must be one of ${allowed.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}`);
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
