import { DEFAULT_DEAD_LETTER_SUFFIX } from '../constants.js';

/**
 * The default dead-letter stream of a source stream: its key with `:dlq`
 * appended (`orders` → `orders:dlq`).
 *
 * @param stream - the source stream's key
 * @returns the key poison entries of `stream` move to unless `deadLetter.stream` says otherwise
 */
export function deadLetterKeyOf(stream: string): string {
  return `${stream}${DEFAULT_DEAD_LETTER_SUFFIX}`;
}
