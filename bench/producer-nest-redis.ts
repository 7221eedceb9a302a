import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import type { Sink } from './producer-sinks.js';
import { KEYS, type ProducerJob } from './protocol.js';

/** Pub/sub producers stay at most this many events ahead of the subscriber, so Redis does not cut it off. */
export const PUBSUB_WINDOW = 20_000;

/**
 * NestJS' `ClientProxy.emit` over Transport.REDIS: one emit per event (it has
 * no batching), a step's emits all in flight at once. Follows the consumer's
 * published count to stay within {@link PUBSUB_WINDOW}.
 */
export async function nestRedisSink(job: ProducerJob, produced: () => number, monitor: Redis): Promise<Sink> {
  const client: ClientProxy = ClientProxyFactory.create({
    transport: Transport.REDIS,
    options: { host: '127.0.0.1', port: job.port },
  });
  await client.connect();
  let handled = 0;
  const follow = setInterval(() => {
    void monitor.get(KEYS.handled).then(
      (value) => {
        handled = Number(value ?? 0);
      },
      () => undefined,
    );
  }, 10);
  return {
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
