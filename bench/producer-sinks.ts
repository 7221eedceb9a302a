import { Redis } from 'ioredis';
import { entryFields, type BenchPayload } from './payload.js';
import { KEYS, type ProducerJob } from './protocol.js';

/** Where a producer writes: one step of payloads at a time. */
export interface Sink {
  /** Writes `payloads`; resolves when Redis has them. */
  readonly write: (payloads: BenchPayload[]) => Promise<void>;
  /** False while a pub/sub producer must wait for its subscriber. */
  readonly mayWrite: () => boolean;
  readonly close: () => Promise<void>;
}

/** Raw XADD, one pipeline per step. */
export async function streamSink(job: ProducerJob): Promise<Sink> {
  const redis = new Redis({ host: '127.0.0.1', port: job.port });
  await redis.ping();
  return {
    write: async (payloads) => {
      const pipeline = redis.pipeline();
      for (const payload of payloads) pipeline.xadd(KEYS.stream, '*', ...entryFields(job.template, JSON.stringify(payload)));
      await pipeline.exec();
    },
    mayWrite: () => true,
    close: async () => void (await redis.quit()),
  };
}
