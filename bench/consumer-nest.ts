import { Transport } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { RedisStreamsServer } from '../src/index.js';
import { contender, streamsOf } from './contenders.js';
import { pendingCount, type RunningConsumer } from './consumers.js';
import { BroadcastBenchController, createBenchApp, listBenchController } from './nest-app.js';
import type { Probe } from './probe.js';
import { KEYS, streamKeys, type ConsumerJob } from './protocol.js';
import { listKeysOf } from '../src/routing/key-names.js';

/**
 * ours-* and streams-*: a Nest microservice on RedisStreamsServer, with the
 * row's batchSize and concurrency (the defaults where unset), bound to the
 * row's streams (one handler each).
 */
export async function oursConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const { batchSize, concurrency } = contender(job.contender);
  const keys = streamKeys(streamsOf(job.contender));
  const server = new RedisStreamsServer({
    connection: { host: '127.0.0.1', port: job.port },
    group: KEYS.group,
    consumer: 'ours-1',
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  const app = await createBenchApp(probe, { strategy: server }, keys);
  return {
    start: () => app.listen(),
    stop: () => app.close(),
    unsettled: () => pendingCount(monitor, keys),
  };
}

/**
 * ours-broadcast: one app instance of the row, on RedisStreamsServer with
 * default options, its handler bound by broadcast from the beginning of the
 * stream. Nothing is ever pending, so nothing is left unsettled.
 */
export async function oursBroadcastConsumer(job: ConsumerJob, probe: Probe): Promise<RunningConsumer> {
  const server = new RedisStreamsServer({
    connection: { host: '127.0.0.1', port: job.port },
    group: KEYS.group,
    // Each instance its own name: one name on two live servers fails their start.
    consumer: `broadcast-${job.instance ?? 0}`,
  });
  const app = await createBenchApp(probe, { strategy: server }, undefined, BroadcastBenchController);
  return {
    start: () => app.listen(),
    stop: () => app.close(),
    unsettled: () => Promise.resolve(0),
  };
}

/** The consumer name of the list contender (its processing list is counted as unsettled). */
const LIST_CONSUMER = 'ours-list-1';

/** list-*: a Nest microservice on RedisStreamsServer whose handler is bound to the bench list queue. */
export async function oursListConsumer(job: ConsumerJob, probe: Probe, monitor: Redis): Promise<RunningConsumer> {
  const { batchSize, concurrency } = contender(job.contender);
  const server = new RedisStreamsServer({
    connection: { host: '127.0.0.1', port: job.port },
    group: KEYS.group,
    consumer: LIST_CONSUMER,
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  const app = await createBenchApp(probe, { strategy: server }, undefined, listBenchController());
  const { processing } = listKeysOf(KEYS.list, LIST_CONSUMER);
  return {
    start: () => app.listen(),
    stop: () => app.close(),
    unsettled: async () => (await monitor.llen(processing)) + (await monitor.llen(KEYS.list)),
  };
}

/** nest-redis: NestJS' built-in Redis (pub/sub) transport, subscribed before `start()`. */
export async function nestRedisConsumer(job: ConsumerJob, probe: Probe): Promise<RunningConsumer> {
  const app = await createBenchApp(probe, {
    transport: Transport.REDIS,
    options: { host: '127.0.0.1', port: job.port },
  });
  await app.listen();
  return {
    // Subscribed by listen() above: there is nothing left to start.
    start: () => Promise.resolve(),
    stop: () => app.close(),
    unsettled: () => Promise.resolve(0),
  };
}
