import type { Redis } from 'ioredis';
import { batchSizeOf, contender, type ContenderKind } from './contenders.js';
import type { BenchPayload } from './payload.js';
import type { Probe } from './probe.js';
import type { ConsumerJob } from './protocol.js';
import { RawLoop, type EntryHandler, type RawLoopOptions } from './raw-loop.js';
import { connect, pendingCount, type RunningConsumer } from './consumers.js';

/** The raw loop variant of each raw kind, and whether it calls the real Nest handler. */
const LOOPS: Partial<Record<ContenderKind, { readonly variant: RawLoopOptions['variant']; readonly isNest: boolean }>> = {
  'raw-simple': { variant: 'simple', isNest: false },
  'raw-pipelined': { variant: 'pipelined', isNest: false },
  'raw-held': { variant: 'ack-with-read', isNest: false },
  'nest-pipelined': { variant: 'pipelined', isNest: true },
  'nest-held': { variant: 'ack-with-read', isNest: true },
};

/**
 * The hand-written loops (bench/raw-loop.ts), with a no-op handler or the real
 * Nest one (nest-ceiling.ts), reading `batchSize` entries at a time.
 */
export async function rawConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const { kind } = contender(job.contender);
  const loopOf = LOOPS[kind];
  if (loopOf === undefined) throw new Error(`${job.contender} (${kind}) is not a raw loop`);
  const { variant, isNest } = loopOf;
  const reader = connect(job.port);
  const acker = variant === 'pipelined' ? connect(job.port) : reader;
  // The no-op async handler: it returns a promise, which the loop awaits.
  let handle: EntryHandler = (payload: BenchPayload) => {
    probe.record(payload);
    return Promise.resolve();
  };
  let close = (): Promise<void> => Promise.resolve();
  if (isNest) {
    const { nestCeilingHandler } = await import('./nest-ceiling.js');
    ({ handle, close } = await nestCeilingHandler(probe));
  }
  const loop = new RawLoop({
    reader,
    acker,
    variant,
    template: job.template,
    handle,
    consumer: 'raw-1',
    batchSize: batchSizeOf(job.contender),
    blockMs: 200,
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
