import type { RedisCommands } from './redis-client.js';

/** Entries of one stream in a read's reply: [id, flat fields, or null when deleted while pending]. */
export type ReadEntries = Array<[string, string[] | null]>;

/** Raw XREADGROUP or XREAD reply: per stream, its entries; null when nothing came. */
export type ReadReply = Array<[string, ReadEntries]> | null;

/**
 * Who reads: a consumer of a group (`XREADGROUP GROUP <group> <consumer>`),
 * or, for broadcast reads and a client's reply stream, nobody in particular
 * (plain `XREAD`, which keeps no state in Redis).
 */
export type ReadAs = { readonly group: string; readonly consumer: string } | 'broadcast';

/** What one read asks for: its streams, the id of each, and COUNT. */
export interface ReadRequest {
  readonly streams: readonly string[];
  /** Per stream: `>` or an own pending id for a group; for XREAD, the id after which entries are returned. */
  readonly ids: readonly string[];
  readonly count: number;
}

/**
 * Sends `XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS k1 k2 ... id1 id2 ...`
 * or `XREAD COUNT n [BLOCK ms] STREAMS ...`. ioredis puts its `keyPrefix` in
 * front of every key after STREAMS; the reply names them as stored, prefixed.
 *
 * @param blockMs - BLOCK, or undefined for a read that returns at once
 */
export function sendRead(redis: RedisCommands, as: ReadAs, request: ReadRequest, blockMs?: number): Promise<ReadReply> {
  const { count, streams, ids } = request;
  let reply: Promise<unknown>;
  if (as === 'broadcast') {
    reply =
      blockMs === undefined
        ? redis.xread('COUNT', count, 'STREAMS', ...streams, ...ids)
        : redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...streams, ...ids);
  } else {
    const { group, consumer } = as;
    reply =
      blockMs === undefined
        ? redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', ...streams, ...ids)
        : redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...streams, ...ids);
  }
  return reply as Promise<ReadReply>;
}
