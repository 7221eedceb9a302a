import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { hashTagOf, keySlot } from '../routing/hash-slot.js';
import { deadLetterKeyOf } from '../routing/key-names.js';

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
    const tag = hashTagOf(stream) ?? stream;
    throw new InvalidOptionsError(
      `deadLetter.stream (of ${pattern})`,
      `on a Redis Cluster the dead-letter stream must be in its source stream's hash slot, because the dead-letter move is one script over both keys: ` +
        `"${deadLetterStream}" is in slot ${deadLetterSlot}, "${stream}" in slot ${slot}. ` +
        `Give the dead-letter stream the source's hash tag: return "{${tag}}…" from deadLetter.stream, e.g. "${suggestion(stream)}" ` +
        `(or bind a stream key with a hash tag, such as "{${tag}}:orders", whose default dead-letter stream shares it).`,
    );
  }
}

/** A dead-letter name in the same slot as `stream`: the default one. */
function suggestion(stream: string): string {
  return deadLetterKeyOf(stream);
}
