import type { Redis } from 'ioredis';
import type { BenchPayload } from './payload.js';
import type { Probe } from './probe.js';
import type { ConsumerJob } from './protocol.js';
import { RawLoop, type EntryHandler } from './raw-loop.js';
import { connect, pendingCount, type RunningConsumer } from './consumers.js';

/** Entries a raw-cN loop holds at most: its COUNT. */
const HELD: Partial<Record<ConsumerJob['contender'], number>> = { 'raw-c1': 1, 'raw-c10': 10, 'raw-c100': 100, 'nest-c100': 100 };

/**
 * raw-simple, raw-pipelined, nest-ceiling (raw-pipelined calling the real Nest
 * handler), and raw-cN: a hand-written loop that never holds more than
 * N entries (one round trip per batch), what a consumer at that concurrency can
 * expect; nest-c100 is raw-c100 calling the real Nest handler.
 */
export async function rawConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const held = HELD[job.contender];
  const variant = job.contender === 'raw-simple' ? 'simple' : held === undefined ? 'pipelined' : 'ack-with-read';
  const reader = connect(job.port);
  const acker = variant === 'pipelined' ? connect(job.port) : reader;
  // The no-op async handler: it returns a promise, which the loop awaits.
  let handle: EntryHandler = (payload: BenchPayload) => {
    probe.record(payload);
    return Promise.resolve();
  };
  let close = (): Promise<void> => Promise.resolve();
  if (job.contender === 'nest-ceiling' || job.contender === 'nest-c100') {
    const { nestCeilingHandler } = await import('./nest-ceiling.js');
    ({ handle, close } = await nestCeilingHandler(probe));
  }
  const loop = new RawLoop({
    reader, acker, variant, template: job.template, handle, consumer: 'raw-1', batchSize: held ?? 100, blockMs: 200,
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
      if (acker !== reader) acker.disconnect();
    },
    unsettled: () => pendingCount(monitor),
  };
}
