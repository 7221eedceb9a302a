import type { Redis } from 'ioredis';
import { runConsumer, type RunningConsumer } from '../../fixtures/consumer-app.js';
import { adminClient, pendingCount, redisUrl, uniqueName } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records, type ConsumerSpec } from './children.js';

describe('handlers still running while close() waits', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let record: string;
  const consumers: RunningConsumer[] = [];

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('drain');
    group = uniqueName('g');
    record = uniqueName('rec');
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
    redis.disconnect();
  });

  async function start(consumer: string, extra: Partial<ConsumerSpec> = {}): Promise<RunningConsumer> {
    const running = await runConsumer(
      consumerConfig({ url: redisUrl(), stream, group, record, consumer, behaviour: 'slow', slowMs: 1_500, ...extra }),
    );
    consumers.push(running);
    return running;
  }

  it('keeps renewing the lease of a handler that outlives claimIdleMs during shutdown', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 500, shutdownTimeoutMs: 3_000 } });
    await start('staying', { options: { claimIdleMs: 500 } });
    const id = await redis.xadd(stream, '*', 'n', '1');
    await waitFor(async () => (await records(redis, `${record}:started`)).length === 1, { message: 'handler started' });
    const owner = (await records(redis, `${record}:started`))[0]!.consumer;
    const closing = owner === 'leaving' ? leaving : consumers[1]!;
    await closing.app.close();
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acked' });
    expect(await records(redis, `${record}:started`)).toEqual([{ id, consumer: owner, deliveries: 1 }]);
    expect(await records(redis, `${record}:done`)).toEqual([{ id, consumer: owner, deliveries: 1 }]);
  });

  it('drops the late ack of a handler that outlived shutdownTimeoutMs, whose entry another consumer handles', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 20_000, shutdownTimeoutMs: 100 } });
    const id = await redis.xadd(stream, '*', 'n', '1');
    await waitFor(async () => (await records(redis, `${record}:started`)).length === 1, { message: 'handler started' });
    await leaving.app.close();
    await start('staying', { behaviour: 'ok', options: { claimIdleMs: 20_000 } });
    await waitFor(async () => (await records(redis, `${record}:done`)).some((r) => r.consumer === 'staying'), {
      message: 'released entry handled by the other consumer',
    });
    await waitFor(async () => (await records(redis, `${record}:done`)).length === 2, { message: 'late handler finished' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acked once handled' });
    const started = await records(redis, `${record}:started`);
    expect(started).toEqual([
      { id, consumer: 'leaving', deliveries: 1 },
      { id, consumer: 'staying', deliveries: 2 },
    ]);
  });
});
