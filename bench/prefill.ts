import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient } from '../src/index.js';
import { encodeListEntry } from '../src/codec/list-codec.js';
import { entryFields, makePayload } from './payload.js';
import { KEYS, streamKeys, type EntryTemplate } from './protocol.js';

/** Entries per pipelined XADD chunk (and jobs per addBulk call) when pre-filling. */
const CHUNK = 1_000;

/**
 * Learns the wire format from our own client: emits one payload, reads the
 * entry back and notes where the JSON sits, so raw producers write exactly
 * what `emit()` writes.
 */
export async function learnTemplate(redis: Redis, port: number): Promise<EntryTemplate> {
  const client = new RedisStreamsClient({ connection: { host: '127.0.0.1', port } });
  const probe = makePayload(0);
  const json = JSON.stringify(probe);
  await lastValueFrom(client.emit('stream:bench:template', probe));
  await client.close();
  const entries = (await redis.xrange('bench:template', '-', '+')) as Array<[string, string[]]>;
  const fields = entries[0]?.[1];
  const dataIndex = fields?.indexOf(json) ?? -1;
  if (fields === undefined || dataIndex < 0) throw new Error('could not find the payload in an entry written by RedisStreamsClient');
  await redis.del('bench:template');
  return { fields, dataIndex };
}

/** Empties Redis and creates the stream and group, reading from the start. */
export async function resetStream(redis: Redis): Promise<void> {
  await redis.flushall();
  await redis.xgroup('CREATE', KEYS.stream, KEYS.group, '0', 'MKSTREAM');
}

/** Empties Redis and appends `count` entries with pipelined XADD, in chunks. */
export async function prefillStream(redis: Redis, template: EntryTemplate, count: number): Promise<void> {
  await resetStream(redis);
  for (let sent = 0; sent < count; sent += CHUNK) {
    const pipeline = redis.pipeline();
    const size = Math.min(CHUNK, count - sent);
    for (let i = 0; i < size; i += 1) {
      pipeline.xadd(KEYS.stream, '*', ...entryFields(template, JSON.stringify(makePayload(sent + i))));
    }
    await pipeline.exec();
  }
  const length = await redis.xlen(KEYS.stream);
  if (length !== count) throw new Error(`pre-fill wrote ${length} entries, expected ${count}`);
}

/**
 * Empties Redis, creates the group (from the start) on each of `streams`
 * bench streams and spreads `count` entries over them in turn.
 */
export async function prefillStreams(redis: Redis, template: EntryTemplate, count: number, streams: number): Promise<void> {
  await redis.flushall();
  const keys = streamKeys(streams);
  const create = redis.pipeline();
  for (const key of keys) create.xgroup('CREATE', key, KEYS.group, '0', 'MKSTREAM');
  await create.exec();
  for (let sent = 0; sent < count; sent += CHUNK) {
    const pipeline = redis.pipeline();
    const size = Math.min(CHUNK, count - sent);
    for (let i = 0; i < size; i += 1) {
      const n = sent + i;
      pipeline.xadd(keys[n % keys.length]!, '*', ...entryFields(template, JSON.stringify(makePayload(n))));
    }
    await pipeline.exec();
  }
}

/** Empties Redis and adds `count` BullMQ jobs with addBulk, in chunks. */
export async function prefillQueue(redis: Redis, port: number, count: number): Promise<void> {
  await redis.flushall();
  const queue = new Queue(KEYS.queue, { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null } });
  try {
    for (let sent = 0; sent < count; sent += CHUNK) {
      const size = Math.min(CHUNK, count - sent);
      const jobs = Array.from({ length: size }, (_, i) => ({
        name: 'bench',
        data: makePayload(sent + i),
        opts: { removeOnComplete: true, removeOnFail: true },
      }));
      await queue.addBulk(jobs);
    }
    const waiting = await queue.getWaitingCount();
    if (waiting !== count) throw new Error(`pre-fill queued ${waiting} jobs, expected ${count}`);
  } finally {
    await queue.close();
  }
}

/** Empties Redis and pushes `count` payloads to the bench list in our client's list encoding, with pipelined RPUSH in chunks. */
export async function prefillList(redis: Redis, count: number): Promise<void> {
  await redis.flushall();
  for (let sent = 0; sent < count; sent += CHUNK) {
    const size = Math.min(CHUNK, count - sent);
    const values = Array.from({ length: size }, (_, i) => encodeListEntry(makePayload(sent + i)));
    await redis.rpush(KEYS.list, ...values);
  }
  const length = await redis.llen(KEYS.list);
  if (length !== count) throw new Error(`pre-fill pushed ${length} entries, expected ${count}`);
}
