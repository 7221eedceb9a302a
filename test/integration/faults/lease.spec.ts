import type { Redis } from 'ioredis';
import {
  runConsumer,
  type RunningConsumer,
} from '../../fixtures/consumer-app.js';
import {
  adminClient,
  pendingCount,
  pendingRows,
  redisUrl,
  uniqueName,
} from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records, type ConsumerSpec } from './children.js';

describe('a handler running longer than claimIdleMs', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let record: string;
  const consumers: RunningConsumer[] = [];

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('lease');
    group = uniqueName('g');
    record = uniqueName('rec');
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
    redis.disconnect();
  });

  function spec(
    consumer: string,
    extra: Partial<ConsumerSpec> = {},
  ): ConsumerSpec {
    return { url: redisUrl(), stream, group, record, consumer, ...extra };
  }

  it('keeps its entry: a second consumer does not handle it, and Redis counts one delivery', async () => {
    const claimIdleMs = 1_000;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const slow = await runConsumer(
      consumerConfig(
        spec('slow', {
          behaviour: 'slow',
          slowMs: 3 * claimIdleMs,
          options: { claimIdleMs },
        }),
      ),
    );
    consumers.push(slow);
    const id = await redis.xadd(stream, '*', 'n', '1');
    await waitFor(async () => (await redis.llen(`${record}:started`)) === 1, {
      message: 'the slow handler to start',
    });
    // Another consumer of the group, scanning for idle entries every 100 ms from now on.
    const other = await runConsumer(
      consumerConfig(spec('other', { options: { claimIdleMs } })),
    );
    consumers.push(other);

    // While the handler runs, its entry never gets idle for claimIdleMs and stays delivered once.
    let maxIdle = 0;
    await waitFor(
      async () => {
        const rows = await pendingRows(redis, stream, group);
        for (const [pendingId, owner, idle, deliveries] of rows) {
          expect([pendingId, owner, deliveries]).toEqual([id, 'slow', 1]);
          maxIdle = Math.max(maxIdle, idle);
        }
        return (await redis.llen(`${record}:done`)) === 1;
      },
      {
        timeoutMs: 6 * claimIdleMs,
        intervalMs: 50,
        message: 'the slow handler to finish',
      },
    );
    expect(maxIdle).toBeLessThan(claimIdleMs);
    await waitFor(
      async () => (await pendingCount(redis, stream, group)) === 0,
      { message: 'the ack' },
    );

    expect(await records(redis, `${record}:started`)).toEqual([
      { id, consumer: 'slow', deliveries: 1 },
    ]);
    expect(await records(redis, `${record}:done`)).toEqual([
      { id, consumer: 'slow', deliveries: 1 },
    ]);
  });
});
