import { compareEntryIds, FIRST_ENTRY_ID } from '../../codec/entry-id.js';
import { subcommandKey } from '../../connection/key-prefix.js';
import type { RedisCommands } from '../../connection/redis-client.js';
import { isNoSuchKey } from '../../errors/redis-reply.js';
import type { ResolvedBroadcastStart } from '../../options/resolve-broadcast-options.js';

/**
 * What a look at a stream found: its last-generated-id (the highest id it
 * ever had, which XDEL and trimming leave alone), or that the key is missing.
 */
export type StreamTip = { readonly lastId: string } | 'missing';

/**
 * Where a look leaves a broadcast reader: on the `same` stream; or the
 * stream `vanished` or was `recreated` (deleted, then written again), and is
 * read again from its start.
 */
export type TipVerdict = 'same' | 'vanished' | 'recreated';

/**
 * Where a broadcast stream's reads start: the id after which `start` asks
 * for entries, given the stream's tip when the server starts. `latest` is
 * the stream's last-generated-id then, so that entries added between
 * start-up and the first read are read; a missing stream is read from its
 * start once it is created.
 */
export function startPosition(start: ResolvedBroadcastStart, tip: StreamTip): string {
  if (start !== 'latest') return start.after;
  return tip === 'missing' ? FIRST_ENTRY_ID : tip.lastId;
}

/**
 * Whether the stream looked at is still the one read so far. A stream's
 * last-generated-id never goes down while the key lives, so a tip below the
 * highest id known of it (read from it, or seen in an earlier look) means
 * the key was deleted and written again; a missing key means it is gone. A
 * stream never known to exist (missing on start, or read from an id past
 * its end) is neither.
 *
 * @param highestKnown - the highest id known to exist(ed) in the stream, undefined when none is
 */
export function judgeTip(tip: StreamTip, highestKnown: string | undefined): TipVerdict {
  if (highestKnown === undefined) return 'same';
  if (tip === 'missing') return 'vanished';
  return compareEntryIds(tip.lastId, highestKnown) < 0 ? 'recreated' : 'same';
}

/** The higher of two ids, either of which may be unknown. */
export function higherId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareEntryIds(a, b) >= 0 ? a : b;
}

/**
 * Looks at a stream's tip with `XINFO STREAM` (the one command that tells
 * the last-generated-id of a stream whose newest entries were deleted).
 *
 * @throws the Redis error for a key of another type or a missing permission
 */
export async function streamTip(commands: RedisCommands, stream: string): Promise<StreamTip> {
  let reply: unknown;
  try {
    reply = await commands.xinfo('STREAM', subcommandKey(commands, stream));
  } catch (error) {
    if (isNoSuchKey(error)) return 'missing';
    throw error;
  }
  return { lastId: lastGeneratedIdOf(reply) };
}

/** The `last-generated-id` of an XINFO STREAM reply (a flat list of names and values). */
export function lastGeneratedIdOf(reply: unknown): string {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const value: unknown = reply[i + 1];
      if (reply[i] === 'last-generated-id' && typeof value === 'string') return value;
    }
  }
  throw new TypeError('XINFO STREAM replied without a last-generated-id');
}
