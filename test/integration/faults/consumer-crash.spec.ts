import type { Redis } from 'ioredis';
import { DEAD_LETTER_FIELDS } from '../../../src/index.js';
import {
  runConsumer,
  type RunningConsumer,
} from '../../fixtures/consumer-app.js';
import {
  adminClient,
  pendingCount,
  pendingRows,
  redisUrl,
  streamEntries,
  uniqueName,
} from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import {
  consumerConfig,
  killAllChildren,
  records,
  spawnConsumer,
  type ConsumerSpec,
} from './children.js';

describe('a consumer process that dies', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let record: string;
  const consumers: RunningConsumer[] = [];

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('crash');
    group = uniqueName('g');
    record = uniqueName('rec');
  });

  afterEach(async () => {
    await killAllChildren();
    await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
    redis.disconnect();
  });

  function spec(
    consumer: string,
    extra: Partial<ConsumerSpec> = {},
  ): ConsumerSpec {
    return { url: redisUrl(), stream, group, record, consumer, ...extra };
  }

  async function produce(count: number, from = 0): Promise<string[]> {
    const pipeline = redis.pipeline();
    for (let i = from; i < from + count; i += 1)
      pipeline.xadd(stream, '*', 'n', String(i));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  it('with SIGKILL mid-handler leaves all of its entries to another consumer; every entry is handled', async () => {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const produced = await produce(60);
    const victim = spawnConsumer(
      // Handlers of 0-300 ms (flaky without failures), so that some are always running.
      consumerConfig(
        spec('victim', {
          behaviour: 'flaky',
          failRate: 0,
          slowMs: 300,
          options: { concurrency: 5, claimIdleMs: 800 },
        }),
      ),
    );
    await victim.ready;
    await waitFor(
      async () => {
        const replies =
          (await redis
            .multi()
            .llen(`${record}:started`)
            .llen(`${record}:done`)
            .exec()) ?? [];
        const [started, done] = replies.map(([, count]) => Number(count));
        return done! >= 10 && started! > done!;
      },
      { message: 'the victim to have handled 10 entries and be running more' },
    );
    await victim.kill('SIGKILL');

    // Killed with handlers running: entries it started but never finished stay pending on it.
    const started = new Set(
      (await records(redis, `${record}:started`)).map((r) => r.id),
    );
    const finished = new Set(
      (await records(redis, `${record}:done`)).map((r) => r.id),
    );
    const interrupted = [...started].filter((id) => !finished.has(id));
    expect(interrupted.length).toBeGreaterThan(0);
    const orphaned = (await pendingRows(redis, stream, group))
      .filter(([, consumer]) => consumer === 'victim')
      .map(([id]) => id);
    expect(orphaned).toEqual(expect.arrayContaining(interrupted));

    const survivor = await runConsumer(
      consumerConfig(spec('survivor', { options: { claimIdleMs: 800 } })),
    );
    consumers.push(survivor);
    produced.push(...(await produce(20, 60)));

    await waitFor(
      async () => (await redis.scard(`${record}:handled`)) >= produced.length,
      {
        message: 'every produced entry handled',
      },
    );
    const handled = new Set(await redis.smembers(`${record}:handled`));
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(
      async () => (await pendingCount(redis, stream, group)) === 0,
      { message: 'nothing pending' },
    );

    // The orphans were claimed by the survivor: Redis counted a second delivery.
    const survivorDone = (await records(redis, `${record}:done`)).filter(
      (r) => r.consumer === 'survivor',
    );
    for (const id of orphaned) {
      expect(survivorDone.find((r) => r.id === id)).toEqual({
        id,
        consumer: 'survivor',
        deliveries: 2,
      });
    }
  });

  it('every time its handler hangs ends the entry in the dead-letter stream after maxDeliveries', async () => {
    const maxDeliveries = 3;
    const options = { maxDeliveries, claimIdleMs: 500 };
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const id = await redis.xadd(stream, '*', 'sku', 'A1', 'qty', '2');
    expect(id).not.toBeNull();

    // Each process picks the entry up (read, then claimed from the dead one), hangs, and is killed.
    for (let delivery = 1; delivery <= maxDeliveries; delivery += 1) {
      const child = spawnConsumer(
        consumerConfig(
          spec(`doomed-${delivery}`, { behaviour: 'hang', options }),
        ),
      );
      await waitFor(
        async () => (await redis.llen(`${record}:started`)) === delivery,
        {
          message: `delivery ${delivery} to start`,
        },
      );
      expect(await pendingRows(redis, stream, group)).toEqual([
        [id, `doomed-${delivery}`, expect.any(Number), delivery],
      ]);
      await child.kill('SIGKILL');
    }

    // The next consumer claims it once more, past the limit, and dead-letters it without running the handler.
    spawnConsumer(
      consumerConfig(spec('doomed-4', { behaviour: 'hang', options })),
    );
    const deadLetter = `${stream}:dlq`;
    await waitFor(async () => (await redis.xlen(deadLetter)) > 0, {
      message: 'the dead-letter entry',
    });
    await waitFor(
      async () => (await pendingCount(redis, stream, group)) === 0,
      { message: 'the original acked' },
    );

    const dead = await streamEntries(redis, deadLetter);
    expect(dead).toHaveLength(1);
    const fields = dead[0]!.fields;
    expect(fields).toMatchObject({
      sku: 'A1',
      qty: '2',
      [DEAD_LETTER_FIELDS.stream]: stream,
      [DEAD_LETTER_FIELDS.id]: id,
      [DEAD_LETTER_FIELDS.group]: group,
      [DEAD_LETTER_FIELDS.consumer]: 'doomed-4',
      [DEAD_LETTER_FIELDS.deliveries]: String(maxDeliveries + 1),
    });
    expect(fields[DEAD_LETTER_FIELDS.error]).toContain('maxDeliveries');
    expect(Date.parse(fields[DEAD_LETTER_FIELDS.time]!)).toBeGreaterThan(
      Date.now() - 60_000,
    );
    // The handler ran maxDeliveries times, never more.
    expect(
      (await records(redis, `${record}:started`)).map((r) => [
        r.consumer,
        r.deliveries,
      ]),
    ).toEqual([
      ['doomed-1', 1],
      ['doomed-2', 2],
      ['doomed-3', 3],
    ]);
    expect(await redis.scard(`${record}:handled`)).toBe(0);
  });
});
