import { Redis } from 'ioredis';
import { contender } from './contenders.js';
import type { Probe } from './probe.js';
import { KEYS, type ConsumerJob } from './protocol.js';

/** A consumer set up and ready to start. */
export interface RunningConsumer {
  /** Starts consuming. */
  start(): Promise<void>;
  /** Stops consuming and closes its connections. */
  stop(): Promise<void>;
  /** Messages delivered but not settled (pending, waiting or active). */
  unsettled(): Promise<number>;
}

/** A plain ioredis connection to the benchmark's Redis. */
export function connect(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
}

/** Entries of the benchmark group delivered and not acknowledged yet, over `keys` (the bench stream by default). */
export async function pendingCount(redis: Redis, keys: readonly string[] = [KEYS.stream]): Promise<number> {
  if (keys.length === 1) {
    const summary = (await redis.xpending(keys[0]!, KEYS.group)) as [number, ...unknown[]];
    return summary[0];
  }
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.xpending(key, KEYS.group);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [error, summary]) => {
    if (error) throw error;
    return sum + Number((summary as [number, ...unknown[]])[0]);
  }, 0);
}

/**
 * Builds the contender named in the job, by its kind (bench/contenders.ts);
 * nothing is consumed before `start()`. Each kind's module is imported on
 * demand so a child loads only what it runs.
 */
export async function createConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const { kind } = contender(job.contender);
  switch (kind) {
    case 'raw-simple':
    case 'raw-pipelined':
    case 'raw-held':
    case 'nest-pipelined':
    case 'nest-held':
      return (await import('./consumer-raw.js')).rawConsumer(job, probe, monitor);
    case 'ours':
    case 'ours-idle':
      return (await import('./consumer-nest.js')).oursConsumer(job, probe, monitor);
    case 'ours-otel':
      return (await import('./consumer-otel.js')).oursOtelConsumer(job, probe, monitor);
    case 'ours-broadcast':
      return (await import('./consumer-nest.js')).oursBroadcastConsumer(job, probe);
    case 'ours-list':
      return (await import('./consumer-nest.js')).oursListConsumer(job, probe, monitor);
    case 'bullmq':
      return (await import('./consumer-bullmq.js')).bullmqConsumer(job, probe);
    case 'nest-redis':
      return (await import('./consumer-nest.js')).nestRedisConsumer(job, probe);
    case 'xadd-raw':
    case 'emit-ours':
      throw new Error(`${job.contender} is a producer, not a consumer`);
    case 'rpc-ours':
    case 'rpc-nest-redis':
    case 'rpc-raw-streams':
    case 'rpc-raw-pubsub':
      throw new Error(`${job.contender} runs request-reply (bench/rpc-run.ts), not a consumer`);
  }
}
