import { BaseRpcContext, Transport, type MessageHandler } from '@nestjs/microservices';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { isObservable, type Observable } from 'rxjs';
import { RedisStreamsServer } from '../src/index.js';
import { CeilingServer, createBenchApp } from './nest-app.js';
import type { BenchPayload } from './payload.js';
import type { Probe } from './probe.js';
import { KEYS, type ConsumerJob } from './protocol.js';
import { RawLoop, type EntryHandler } from './raw-loop.js';

/** A consumer set up and ready to start. */
export interface RunningConsumer {
  /** Starts consuming. */
  start(): Promise<void>;
  /** Stops consuming and closes its connections. */
  stop(): Promise<void>;
  /** Messages delivered but not settled (pending, waiting or active). */
  unsettled(): Promise<number>;
}

/** How long a read blocks when nothing is there; short so stops are quick. */
const BLOCK_MS = 200;

function connect(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, lazyConnect: false });
}

async function pendingCount(redis: Redis): Promise<number> {
  const summary = (await redis.xpending(KEYS.stream, KEYS.group)) as [number, ...unknown[]];
  return summary[0];
}

/** Waits for what a Nest handler returned, the way a transport must. */
function settle(result: unknown): Promise<void> | undefined {
  if (!isObservable(result)) return undefined;
  return new Promise((resolve, reject) => {
    (result as Observable<unknown>).subscribe({ error: reject, complete: resolve });
  });
}

async function rawConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const variant = job.contender === 'raw-simple' ? 'simple' : 'pipelined';
  const reader = connect(job.port);
  const acker = variant === 'simple' ? reader : connect(job.port);
  let handle: EntryHandler = async (payload: BenchPayload) => {
    probe.record(payload);
  };
  let close = async (): Promise<void> => undefined;
  if (job.contender === 'nest-ceiling') {
    const server = new CeilingServer();
    const app = await createBenchApp(probe, { strategy: server });
    await app.listen();
    const handler: MessageHandler | null = server.getHandlerByPattern(KEYS.pattern);
    if (handler === null) throw new Error(`no Nest handler for ${KEYS.pattern}`);
    handle = async (payload, id) => {
      const result: unknown = await handler(payload, new BaseRpcContext([KEYS.stream, id]));
      await settle(result);
    };
    close = () => app.close();
  }
  const loop = new RawLoop({
    reader, acker, variant, template: job.template, handle, consumer: 'raw-1', batchSize: 100, blockMs: BLOCK_MS,
  });
  return {
    start: async () => loop.start(),
    stop: async () => {
      await loop.stop();
      await close();
      reader.disconnect();
      acker.disconnect();
    },
    unsettled: () => pendingCount(monitor),
  };
}

async function oursConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const tuned = job.contender === 'ours-tuned' ? job.tuned : {};
  const server = new RedisStreamsServer({
    connection: { host: '127.0.0.1', port: job.port },
    group: KEYS.group,
    consumer: 'ours-1',
    ...tuned,
  });
  const app = await createBenchApp(probe, { strategy: server });
  return {
    start: () => app.listen(),
    stop: () => app.close(),
    unsettled: () => pendingCount(monitor),
  };
}

async function bullmqConsumer(job: ConsumerJob, probe: Probe): Promise<RunningConsumer> {
  const concurrency = Number(job.contender.slice('bullmq-c'.length));
  const connection = { host: '127.0.0.1', port: job.port, maxRetriesPerRequest: null };
  const worker = new Worker<BenchPayload>(
    KEYS.queue,
    async (bullJob) => {
      probe.record(bullJob.data);
    },
    { connection, concurrency, autorun: false },
  );
  worker.on('error', () => undefined);
  const queue = new Queue(KEYS.queue, { connection });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  return {
    start: async () => {
      void worker.run().catch(() => undefined);
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

async function nestRedisConsumer(job: ConsumerJob, probe: Probe): Promise<RunningConsumer> {
  const app = await createBenchApp(probe, {
    transport: Transport.REDIS,
    options: { host: '127.0.0.1', port: job.port },
  });
  await app.listen();
  return {
    start: async () => undefined,
    stop: () => app.close(),
    unsettled: async () => 0,
  };
}

/** Builds the contender named in the job; nothing is consumed before `start()`. */
export function createConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  switch (job.contender) {
    case 'raw-simple':
    case 'raw-pipelined':
    case 'nest-ceiling':
      return rawConsumer(job, probe, monitor);
    case 'ours-default':
    case 'ours-tuned':
      return oursConsumer(job, probe, monitor);
    case 'bullmq-c1':
    case 'bullmq-c10':
    case 'bullmq-c100':
      return bullmqConsumer(job, probe);
    case 'nest-redis':
      return nestRedisConsumer(job, probe);
  }
}

/** Opens the child's own connection for polling and counters. */
export function openMonitor(port: number): Redis {
  return connect(port);
}
