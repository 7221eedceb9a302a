import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { hashTagOf, keySlot } from '../routing/hash-slot.js';
import { deadLetterKeyOf, processingKeyOf } from '../routing/key-names.js';

/** A bound stream and the dead-letter stream its entries move to. */
export interface DeadLetterRoute {
  /** The handler's pattern, to name it in errors. */
  readonly pattern: string;
  readonly stream: string;
  readonly deadLetterStream: string;
}

/**
 * On a Redis Cluster, checks that every dead-letter stream shares its source
 * stream's hash slot: the dead-letter move is one script (XADD to the one,
 * XACK on the other), and Redis runs a script only on keys of one slot.
 *
 * @param keyPrefix - the prefix ioredis puts before every key (part of what is hashed)
 * @throws InvalidOptionsError naming the stream, both slots and how to fix it
 */
export function checkDeadLetterSlots(routes: readonly DeadLetterRoute[], keyPrefix = ''): void {
  for (const { pattern, stream, deadLetterStream } of routes) {
    const slot = keySlot(`${keyPrefix}${stream}`);
    const deadLetterSlot = keySlot(`${keyPrefix}${deadLetterStream}`);
    if (slot === deadLetterSlot) continue;
    throw new InvalidOptionsError(
      `deadLetter.stream (of ${pattern})`,
      `on a Redis Cluster the dead-letter stream must be in its source stream's hash slot, because the dead-letter move is one script over both keys: ` +
        `"${keyPrefix}${deadLetterStream}" is in slot ${deadLetterSlot}, "${keyPrefix}${stream}" in slot ${slot}. ${fixFor(stream, keyPrefix)}`,
    );
  }
}

/** How to put the dead-letter stream of `stream` in its slot, with names that work. */
function fixFor(stream: string, keyPrefix: string): string {
  const key = `${keyPrefix}${stream}`;
  if (keyPrefix === '' || hashTagOf(key) !== undefined) {
    const tag = hashTagOf(stream) ?? stream;
    return (
      `Give the dead-letter stream the source's hash tag: return "{${tag}}…" from deadLetter.stream, e.g. "${suggestion(stream)}" ` +
      `(or bind a stream key with a hash tag, such as "{${tag}}:orders", whose default dead-letter stream shares it).`
    );
  }
  // The keyPrefix goes in front of the dead-letter key too, so its tag must name the whole prefixed source key.
  return (
    `With keyPrefix "${keyPrefix}", the stream's key "${key}" has no hash tag, so no default name shares its slot: ` +
    `return "{${key}}:dlq" from deadLetter.stream (stored as "${keyPrefix}{${key}}:dlq"), ` +
    `bind a stream with a hash tag ("{${stream}}"), or use a keyPrefix with one ("{${keyPrefix.replace(/[:{}]+$/, '')}}:"; every key then shares one slot).`
  );
}

/** A dead-letter name in the same slot as `stream`: the default one. */
function suggestion(stream: string): string {
  return deadLetterKeyOf(stream);
}

/**
 * On a Redis Cluster, checks that each bound list shares a hash slot with its
 * bookkeeping keys (processing lists, liveness keys, registry, retry set),
 * which one script touches together. Their names carry the list's hash tag,
 * so this fails only when a `keyPrefix` goes in front of an untagged list.
 *
 * @throws InvalidOptionsError naming the list, both slots and how to fix it
 */
export function checkListSlots(
  lists: ReadonlyArray<{ readonly pattern: string; readonly list: string; readonly consumer: string }>,
  keyPrefix = '',
): void {
  for (const { pattern, list, consumer } of lists) {
    const slot = keySlot(`${keyPrefix}${list}`);
    const processing = `${keyPrefix}${processingKeyOf(list, consumer)}`;
    const bookkeepingSlot = keySlot(processing);
    if (slot === bookkeepingSlot) continue;
    throw new InvalidOptionsError(
      pattern,
      `on a Redis Cluster a list and its bookkeeping keys must share a hash slot, because its scripts touch them together: ` +
        `"${keyPrefix}${list}" is in slot ${slot}, "${processing}" in slot ${bookkeepingSlot}. ` +
        `Bind a list key with a hash tag ("{${list}}"), or use a keyPrefix with one ("{${keyPrefix.replace(/[:{}]+$/, '')}}:"; every key then shares one slot).`,
    );
  }
}
