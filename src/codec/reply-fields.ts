import { entryIdMs } from './entry-id.js';

/**
 * The name/value pairs of an XINFO reply (`['length', 2, 'groups', 1, ...]`)
 * as a map. Redis 6.2 to 8 and Valkey answer XINFO in this flat form (RESP2).
 */
export function replyFields(reply: unknown): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  return fields;
}

/** A numeric field of an XINFO reply; undefined when absent or nil (XINFO GROUPS' `lag` on Redis 6.2, or when unknown). */
export function numberField(fields: Map<string, unknown>, name: string): number | undefined {
  const value = fields.get(name);
  if (value === null || value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** A text field of an XINFO reply, or undefined. */
export function textField(fields: Map<string, unknown>, name: string): string | undefined {
  const value = fields.get(name);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** The id of an entry as XINFO STREAM gives `first-entry`/`last-entry` (`[id, fields]`), or undefined. */
export function entryIdOf(entry: unknown): string | undefined {
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}

/** Milliseconds since the time in an entry id, never negative; undefined for no id. */
export function ageOfId(id: string | undefined, now: number): number | undefined {
  const ms = id === undefined ? undefined : entryIdMs(id);
  return ms === undefined ? undefined : Math.max(0, now - ms);
}

/** The RFC 3339 UTC time in an entry id, or undefined. */
export function timeOfId(id: string | undefined): string | undefined {
  const ms = id === undefined ? undefined : entryIdMs(id);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
