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
 * Every key one list queue works with. They all share the list's hash slot:
 * each starts with the list's hash tag (`{jobs}:…` for the untagged list
 * `jobs`, `{shop}:jobs:…` for `{shop}:jobs`), by the rule of
 * {@link deadLetterKeyOf}, so that one script may touch them together on a
 * Redis Cluster. Names are without the ioredis `keyPrefix`.
 */
export interface ListKeys {
  /** The list itself: producers RPUSH, consumers take from the left. */
  readonly list: string;
  /** Entries this consumer holds: moved here atomically, removed once settled. */
  readonly processing: string;
  /** This consumer's liveness key (TTL `claimIdleMs`, renewed while it runs). */
  readonly alive: string;
  /** The names of every consumer that may hold a processing list of this list (a set). */
  readonly registry: string;
  /** Entries handed back for a retry, by the time they are due (a sorted set). */
  readonly retry: string;
}

/** The start every key of a list queue shares: the list's hash tag, or the tagged key itself. */
function listKeyBase(list: string): string {
  return hasHashTag(list) ? list : `{${list}}`;
}

/**
 * The keys of list queue `list` for consumer `consumer` (see {@link ListKeys}).
 *
 * @example
 * ```ts
 * listKeysOf('jobs', 'w1').processing; // '{jobs}:processing:w1'
 * listKeysOf('{shop}:jobs', 'w1').retry; // '{shop}:jobs:retry'
 * ```
 */
export function listKeysOf(list: string, consumer: string): ListKeys {
  const base = listKeyBase(list);
  return {
    list,
    processing: processingKeyOf(list, consumer),
    alive: aliveKeyOf(list, consumer),
    registry: `${base}:consumers`,
    retry: `${base}:retry`,
  };
}

/** The processing list of `consumer` for list `list`. */
export function processingKeyOf(list: string, consumer: string): string {
  return `${listKeyBase(list)}:processing:${consumer}`;
}

/** The liveness key of `consumer` for list `list`. */
export function aliveKeyOf(list: string, consumer: string): string {
  return `${listKeyBase(list)}:alive:${consumer}`;
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
