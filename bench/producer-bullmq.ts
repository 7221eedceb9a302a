import { Queue } from 'bullmq';
import type { BenchPayload } from './payload.js';
import type { Sink } from './producer-sinks.js';
import { KEYS, type ProducerJob } from './protocol.js';

/** BullMQ `addBulk`, one call per step. */
export async function bullmqSink(job: ProducerJob): Promise<Sink> {
  const queue = new Queue<BenchPayload>(KEYS.queue, {
    connection: { host: '127.0.0.1', port: job.port, maxRetriesPerRequest: null },
  });
  await queue.waitUntilReady();
  return {
    write: async (payloads) => {
      await queue.addBulk(payloads.map((data) => ({ name: 'bench', data, opts: { removeOnComplete: true, removeOnFail: true } })));
    },
    mayWrite: () => true,
    close: () => queue.close(),
  };
}
