import { Queue, Worker } from 'bullmq';
import { concurrencyOf } from './contenders.js';
import type { RunningConsumer } from './consumers.js';
import type { BenchPayload } from './payload.js';
import type { Probe } from './probe.js';
import { KEYS, type ConsumerJob } from './protocol.js';

/** bullmq-*: a BullMQ Worker with a no-op processor at the row's concurrency. */
export async function bullmqConsumer(job: ConsumerJob, probe: Probe): Promise<RunningConsumer> {
  const concurrency = concurrencyOf(job.contender);
  const connection = { host: '127.0.0.1', port: job.port, maxRetriesPerRequest: null };
  const worker = new Worker<BenchPayload>(
    KEYS.queue,
    // The no-op async processor: it returns a promise, as an `async` one would.
    (bullJob) => {
      probe.record(bullJob.data);
      return Promise.resolve();
    },
    { connection, concurrency, autorun: false },
  );
  worker.on('error', () => undefined);
  const queue = new Queue(KEYS.queue, { connection });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  return {
    start: () => {
      void worker.run().catch(() => undefined);
      return Promise.resolve();
    },
    stop: async () => {
      await worker.close();
      await queue.close();
    },
    unsettled: async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
  };
}
