import type { FieldValue } from '../../codec/stream-codec.js';
import { DEAD_LETTER_FIELDS } from '../../constants.js';
import type { StreamScripts } from '../../connection/scripts.js';

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
 * Appends the entry to the dead-letter stream and acknowledges the original in
 * one script, so neither happens without the other.
 *
 * @returns the dead-letter entry's id
 */
export function moveToDeadLetter(
  scripts: StreamScripts,
  deadLetterStream: string,
  maxLen: number | undefined,
  record: DeadLetterRecord,
): Promise<string> {
  return scripts.deadLetter(
    deadLetterStream,
    record.stream,
    record.group,
    record.id,
    maxLen === undefined ? '' : String(maxLen),
    ...deadLetterFields(record, new Date()),
  );
}
