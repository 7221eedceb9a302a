import type { OptionValues } from './verb.js';
import { isEntryId } from '../codec/entry-id.js';
import { UsageError } from './usage-error.js';

/** A string option, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option (`--id a --id b`), or undefined when not given. */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** A whole-number option of at least `minimum`, or `fallback`. */
export function wholeOption(values: OptionValues, name: string, fallback: number, minimum = 0): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const number = Number(text);
  if (!Number.isInteger(number) || number < minimum) throw new UsageError(`--${name} must be a whole number ≥ ${minimum}, got "${text}"`);
  return number;
}

/** A flag. */
export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** Refuses what is not a stream entry id (`<ms>-<seq>`, `<ms>`, or `$`/`0` where allowed). */
export function entryId(text: string, what: string, special: readonly string[] = []): string {
  if (special.includes(text) || isEntryId(text)) return text;
  throw new UsageError(
    `${what} must be an entry id such as 1764594252123-0${special.length > 0 ? ` (or ${special.join(', ')})` : ''}, got ${JSON.stringify(text)}`,
  );
}
