import { deadLetterFields, type DeadLetterRecord } from '../../codec/dead-letter-record.js';
import type { StreamScripts } from '../../connection/scripts.js';

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
