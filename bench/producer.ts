import { Redis } from 'ioredis';
import { makePayload, nowMs, type BenchPayload } from './payload.js';
import { publishCount, sleep } from './probe.js';
import { streamSink, type Sink } from './producer-sinks.js';
import { KEYS, tell, waitForGo, type ProducerJob, type RunResult } from './protocol.js';

/** Messages one producer step writes in `max` and `burst` modes. */
const BATCH = 100;

async function openSink(job: ProducerJob, produced: () => number, monitor: Redis): Promise<Sink> {
  if (job.family === 'stream') return streamSink(job);
  if (job.family === 'bullmq') return (await import('./producer-bullmq.js')).bullmqSink(job);
  return (await import('./producer-nest-redis.js')).nestRedisSink(job, produced, monitor);
}

/**
 * Runs a producer in this process: as fast as it can (`max`, one batch of 100
 * in flight), a fixed number as fast as it can (`burst`), or at a fixed rate
 * with the send time in each payload (`rate`). Publishes its count to
 * `bench:produced` so the consumer can measure lag.
 */
export async function runProducer(job: ProducerJob): Promise<RunResult> {
  const monitor = new Redis({ host: '127.0.0.1', port: job.port });
  let produced = 0;
  const family = await openSink(job, () => produced, monitor);
  const stopPublishing = publishCount(monitor, KEYS.produced, () => produced);
  await tell({ type: 'ready' });
  await waitForGo();
  const t0 = performance.now();
  const deadline = t0 + job.durationMs;
  if (job.mode === 'rate') {
    const inFlight = new Set<Promise<void>>();
    while (produced < job.count && performance.now() < deadline + 1_000) {
      const due = Math.min(job.count, Math.floor(((performance.now() - t0) * job.rate) / 1000)) - produced;
      if (due > 0) {
        const payloads: BenchPayload[] = [];
        for (let i = 0; i < due; i += 1) payloads.push(makePayload(produced + i, nowMs()));
        produced += due;
        const step = family.write(payloads).finally(() => inFlight.delete(step));
        inFlight.add(step);
      }
      if (inFlight.size > 50) await Promise.race(inFlight);
      await sleep(1);
    }
    await Promise.all(inFlight);
  } else {
    // `max` stops at durationMs, `burst` at count (durationMs is then only its cap).
    const limit = job.count;
    const template = Array.from({ length: BATCH }, (_, i) => makePayload(i));
    while (produced < limit && performance.now() < deadline) {
      if (!family.mayWrite()) {
        await sleep(2);
        continue;
      }
      const size = Math.min(BATCH, limit - produced);
      await family.write(size === BATCH ? template : template.slice(0, size));
      produced += size;
    }
  }
  const elapsedMs = performance.now() - t0;
  await stopPublishing();
  await family.close();
  monitor.disconnect();
  return { messages: produced, elapsedMs, rate: (produced * 1000) / elapsedMs, timedOut: false };
}
