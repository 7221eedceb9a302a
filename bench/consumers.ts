import { Redis } from 'ioredis';
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

/** Entries of the benchmark group delivered and not acknowledged yet. */
export async function pendingCount(redis: Redis): Promise<number> {
  const summary = (await redis.xpending(KEYS.stream, KEYS.group)) as [number, ...unknown[]];
  return summary[0];
}

/**
 * Builds the contender named in the job; nothing is consumed before `start()`.
 * Each family is imported on demand so a child loads only what it runs.
 */
export async function createConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  switch (job.contender) {
    case 'raw-simple':
    case 'raw-pipelined':
    case 'nest-ceiling':
    case 'raw-c1':
    case 'raw-c10':
    case 'raw-c100':
    case 'nest-c100':
      return (await import('./consumer-raw.js')).rawConsumer(job, probe, monitor);
    case 'ours-default':
    case 'ours-tuned':
    case 'ours-c100':
    case 'ours-c10':
    case 'ours-c1':
      return (await import('./consumer-nest.js')).oursConsumer(job, probe, monitor);
    case 'bullmq-c1':
    case 'bullmq-c10':
    case 'bullmq-c100':
    case 'bullmq-c200':
      return (await import('./consumer-bullmq.js')).bullmqConsumer(job, probe);
    case 'nest-redis':
      return (await import('./consumer-nest.js')).nestRedisConsumer(job, probe);
  }
}
