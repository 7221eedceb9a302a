import type { Redis } from 'ioredis';
import type { BenchPayload } from './payload.js';
import type { Probe } from './probe.js';
import type { ConsumerJob } from './protocol.js';
import { RawLoop, type EntryHandler } from './raw-loop.js';
import { connect, pendingCount, type RunningConsumer } from './consumers.js';

/** raw-simple, raw-pipelined and nest-ceiling (raw-pipelined calling the real Nest handler). */
export async function rawConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const variant = job.contender === 'raw-simple' ? 'simple' : 'pipelined';
  const reader = connect(job.port);
  const acker = variant === 'simple' ? reader : connect(job.port);
  // The no-op async handler: it returns a promise, which the loop awaits.
  let handle: EntryHandler = (payload: BenchPayload) => {
    probe.record(payload);
    return Promise.resolve();
  };
  let close = (): Promise<void> => Promise.resolve();
  if (job.contender === 'nest-ceiling') {
    const { nestCeilingHandler } = await import('./nest-ceiling.js');
    ({ handle, close } = await nestCeilingHandler(probe));
  }
  const loop = new RawLoop({
    reader, acker, variant, template: job.template, handle, consumer: 'raw-1', batchSize: 100, blockMs: 200,
  });
  return {
    start: () => {
      loop.start();
      return Promise.resolve();
    },
    stop: async () => {
      await loop.stop();
      await close();
      reader.disconnect();
      acker.disconnect();
    },
    unsettled: () => pendingCount(monitor),
  };
}
