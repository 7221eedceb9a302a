import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { entryFields, makePayload, nowMs, type BenchPayload } from './payload.js';
import { publishCount, sleep } from './probe.js';
import { KEYS, tell, waitForGo, type ProducerJob, type RunResult } from './protocol.js';

/** Messages one producer step writes in `max` mode. */
const BATCH = 100;
/** Pub/sub producers stay at most this many events ahead of the subscriber, so Redis does not cut it off. */
const PUBSUB_WINDOW = 20_000;

/** Writes `payloads` as one step; resolves when Redis has them. */
type Sink = (payloads: BenchPayload[]) => Promise<void>;

interface Family {
  readonly write: Sink;
  /** False while a pub/sub producer must wait for its subscriber. */
  readonly mayWrite: () => boolean;
  readonly close: () => Promise<void>;
}

async function streamFamily(job: ProducerJob): Promise<Family> {
  const redis = new Redis({ host: '127.0.0.1', port: job.port });
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

async function bullmqFamily(job: ProducerJob): Promise<Family> {
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

async function nestRedisFamily(job: ProducerJob, produced: () => number, monitor: Redis): Promise<Family> {
  const client: ClientProxy = ClientProxyFactory.create({
    transport: Transport.REDIS,
    options: { host: '127.0.0.1', port: job.port },
  });
  await client.connect();
  let handled = 0;
  const follow = setInterval(() => {
    void monitor.get(KEYS.handled).then((value) => {
      handled = Number(value ?? 0);
    }, () => undefined);
  }, 10);
  return {
    // NestJS' ClientProxy has no batching: one emit per event, all in flight at once.
    write: async (payloads) => {
      await Promise.all(payloads.map((payload) => lastValueFrom(client.emit(KEYS.pattern, payload), { defaultValue: undefined })));
    },
    mayWrite: () => produced() - handled < PUBSUB_WINDOW,
    close: async () => {
      clearInterval(follow);
      await client.close();
    },
  };
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
  const family =
    job.family === 'stream'
      ? await streamFamily(job)
      : job.family === 'bullmq'
        ? await bullmqFamily(job)
        : await nestRedisFamily(job, () => produced, monitor);
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
