import type { ReadAs } from '../connection/read-command.js';
import type { RedisClient } from '../connection/redis-client.js';
import { isConfigurationError, isGroupGone } from '../errors/redis-reply.js';

/** An id no XREADGROUP or XREAD accepts: Redis checks the key's type (and the group) before it parses ids. */
const INVALID_ID = 'not-an-id';

/**
 * Which of `streams` an error of an XREADGROUP (or XREAD) that read them
 * together was about. Redis names no key in WRONGTYPE, NOPERM or a blocked
 * read's UNBLOCKED, and the first failing key fails the whole read, so each
 * stream is read alone, in one pipeline, with an id that no read accepts:
 * Redis checks permissions, the key's type and the group first, so the reply
 * is that stream's own error, or "invalid stream ID" when it is fine, and
 * nothing is ever read or delivered.
 *
 * @param as - who read: a group's consumer, or `broadcast` for XREAD
 * @returns per stream (in order), its NOGROUP, WRONGTYPE or NOPERM error, or undefined
 * @throws when the pipeline itself fails (the connection is lost)
 */
export async function errorsOfEach(commands: RedisClient, as: ReadAs, streams: readonly string[]): Promise<unknown[]> {
  const pipeline = commands.pipeline();
  for (const stream of streams) {
    if (as === 'broadcast') pipeline.call('XREAD', 'COUNT', 1, 'STREAMS', stream, INVALID_ID);
    else pipeline.call('XREADGROUP', 'GROUP', as.group, as.consumer, 'COUNT', 1, 'STREAMS', stream, INVALID_ID);
  }
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error]) => (isGroupGone(error) || isConfigurationError(error) ? error : undefined));
}
