import { DEFAULT_DEAD_LETTER_SUFFIX, REPLY_STREAM_PREFIX } from '../constants.js';
import { hasHashTag } from './hash-slot.js';

/**
 * The default dead-letter stream of a source stream, named so that it lies in
 * its source's hash slot on every topology (a Redis Cluster moves nothing and
 * renames nothing): `{<stream>}:dlq` for a key without a hash tag
 * (`orders` → `{orders}:dlq`), `<stream>:dlq` for a key that has one
 * (`{shop}:orders` → `{shop}:orders:dlq`).
 *
 * The name depends on the stream's name only: an ioredis `keyPrefix` goes in
 * front of it like in front of every key (`shop:` → `shop:{orders}:dlq`). A
 * key that holds a `}` but no hash tag cannot be put into a tag whole; its
 * default dead-letter stream hashes elsewhere.
 *
 * @param stream - the source stream's key, as bound (without any keyPrefix)
 * @returns the key poison entries of `stream` move to unless `deadLetter.stream` says otherwise
 */
export function deadLetterKeyOf(stream: string): string {
  return hasHashTag(stream) ? `${stream}${DEFAULT_DEAD_LETTER_SUFFIX}` : `{${stream}}${DEFAULT_DEAD_LETTER_SUFFIX}`;
}

/**
 * The dead-letter stream that versions before 0.2.0 used by default (`<stream>:dlq`),
 * for finding dead letters left under the old name.
 *
 * @param stream - the source stream's key, as bound
 */
export function legacyDeadLetterKeyOf(stream: string): string {
  return `${stream}${DEFAULT_DEAD_LETTER_SUFFIX}`;
}

/**
 * The key of a client's reply stream: one key (so it lives on one node of a
 * cluster), unique per client connection. An ioredis `keyPrefix` goes in front
 * of it like in front of every key.
 *
 * @param instanceId - unique per client connection (a random UUID)
 */
export function replyStreamKeyOf(instanceId: string): string {
  return `${REPLY_STREAM_PREFIX}${instanceId}`;
}
