import { DEAD_LETTER_FIELDS, LIST_DEAD_LETTER_ID, LIST_ENTRY_FIELD } from '../constants.js';
import { toBytes, type FieldValue } from './stream-codec.js';

/** Where a dead entry came from and why it died. */
export interface DeadLetterRecord {
  readonly stream: string;
  readonly id: string;
  readonly group: string;
  readonly consumer: string;
  readonly deliveries: number;
  readonly error: string;
  /** The original flat field list, byte for byte. */
  readonly fields: readonly FieldValue[];
}

/** A dead-letter entry read back: its record and when it died. */
export interface ReadDeadLetter extends DeadLetterRecord {
  /** ISO 8601, as written by {@link deadLetterFields}. */
  readonly time: string;
}

/** The origin fields, in the order they are written after the original fields. */
const ORIGIN_ORDER = [
  DEAD_LETTER_FIELDS.stream,
  DEAD_LETTER_FIELDS.id,
  DEAD_LETTER_FIELDS.group,
  DEAD_LETTER_FIELDS.consumer,
  DEAD_LETTER_FIELDS.deliveries,
  DEAD_LETTER_FIELDS.error,
  DEAD_LETTER_FIELDS.time,
] as const;

/** The flat field list of a dead-letter entry: the original fields, then the origin. */
export function deadLetterFields(record: DeadLetterRecord, now: Date): FieldValue[] {
  return [
    ...record.fields,
    DEAD_LETTER_FIELDS.stream,
    record.stream,
    DEAD_LETTER_FIELDS.id,
    record.id,
    DEAD_LETTER_FIELDS.group,
    record.group,
    DEAD_LETTER_FIELDS.consumer,
    record.consumer,
    DEAD_LETTER_FIELDS.deliveries,
    String(record.deliveries),
    DEAD_LETTER_FIELDS.error,
    record.error,
    DEAD_LETTER_FIELDS.time,
    now.toISOString(),
  ];
}

/**
 * Reads a dead-letter entry's flat field list back into its record: the
 * origin fields are the last seven pairs, in the order {@link deadLetterFields}
 * writes them, so an original field that happens to be called `dlq-id` stays
 * part of the original fields.
 *
 * @returns undefined when the entry does not end with the origin fields
 */
export function readDeadLetterFields(flat: readonly FieldValue[]): ReadDeadLetter | undefined {
  const originLength = ORIGIN_ORDER.length * 2;
  if (flat.length < originLength || flat.length % 2 !== 0) return undefined;
  const start = flat.length - originLength;
  const origin: string[] = [];
  for (const [index, name] of ORIGIN_ORDER.entries()) {
    const field = flat[start + index * 2]!;
    if (toBytes(field).toString('utf8') !== name) return undefined;
    origin.push(toBytes(flat[start + index * 2 + 1]!).toString('utf8'));
  }
  const [stream, id, group, consumer, deliveries, error, time] = origin as [string, string, string, string, string, string, string];
  const count = Number(deliveries);
  if (!Number.isInteger(count) || count < 0) return undefined;
  return { stream, id, group, consumer, deliveries: count, error, time, fields: flat.slice(0, start) };
}

/**
 * The original fields of a list entry's dead letter: one field,
 * `list-entry`, holding the entry's bytes as they were pushed.
 */
export function listEntryFields(entry: Buffer): FieldValue[] {
  return [LIST_ENTRY_FIELD, entry];
}

/** Whether a dead letter read back came from a list queue (its `dlq-id` is `list`, its one field the entry). */
export function isListDeadLetter(record: DeadLetterRecord): boolean {
  return (
    record.id === LIST_DEAD_LETTER_ID && record.fields.length === 2 && toBytes(record.fields[0]!).toString('utf8') === LIST_ENTRY_FIELD
  );
}
