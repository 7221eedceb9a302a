import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** URL of the suite's Redis (set by global setup, or given by the user). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set; run the tests through jest so global setup starts Redis.');
  return url;
}

/** A unique name per test, so tests never share streams or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A plain ioredis client for asserting on Redis state; close it in afterEach. */
export function adminClient(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** XPENDING summary count for a group. */
export async function pendingCount(redis: Redis, stream: string, group: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/** Extended XPENDING rows: [id, consumer, idle, deliveries]. */
export async function pendingRows(
  redis: Redis,
  stream: string,
  group: string,
): Promise<Array<[string, string, number, number]>> {
  return (await redis.xpending(stream, group, '-', '+', 1000)) as Array<[string, string, number, number]>;
}

/** Field map of every entry in a stream. */
export async function streamEntries(redis: Redis, stream: string): Promise<Array<{ id: string; fields: Record<string, string> }>> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { id, fields };
  });
}
