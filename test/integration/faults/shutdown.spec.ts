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
import {
  consumerConfig,
  killAllChildren,
  records,
  spawnConsumer,
  type ConsumerSpec,
} from './children.js';

describe('close() under load', () => {
  let redis: Redis;
  let stream: string;
  let group: string;
  let record: string;
  const consumers: RunningConsumer[] = [];
  let stopProducing: () => Promise<string[]>;

  beforeEach(() => {
    redis = adminClient();
    stream = uniqueName('close');
    group = uniqueName('g');
    record = uniqueName('rec');
    stopProducing = () => Promise.resolve([]);
  });

  afterEach(async () => {
    await stopProducing();
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

  /**
   * Adds entries until the returned function is called, keeping at most
   * `window` of them unhandled, so the consumers always have work queued.
   */
  function startProducing(window = 40): void {
    const produced: string[] = [];
    let stopped = false;
    const loop = (async () => {
      for (let n = 0; !stopped; n += 1) {
        produced.push((await redis.xadd(stream, '*', 'n', String(n)))!);
        if (produced.length % window === 0) {
          await waitFor(
            async () => stopped || (await redis.scard(`${record}:handled`)) >= produced.length - window / 2,
            { timeoutMs: 15_000, message: 'consumers to catch up with the producer' },
          );
        }
      }
    })();
    stopProducing = async () => {
      stopped = true;
      await loop;
      return produced;
    };
  }

  async function expectAllHandled(produced: string[]): Promise<void> {
    await waitFor(
      async () => (await redis.scard(`${record}:handled`)) >= produced.length,
      {
        timeoutMs: 15_000,
        message: `all ${produced.length} entries handled`,
      },
    );
    const handled = new Set(await redis.smembers(`${record}:handled`));
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(
      async () => (await pendingCount(redis, stream, group)) === 0,
      { message: 'nothing pending' },
    );
  }

  it('lets running handlers finish, hands the rest to the other consumer: each entry handled exactly once', async () => {
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const options = { concurrency: 10, shutdownTimeoutMs: 2_000 };
    const leaving = await runConsumer(
      consumerConfig(
        spec('leaving', { behaviour: 'slow', slowMs: 40, options }),
      ),
    );
    const staying = await runConsumer(
      consumerConfig(
        spec('staying', { behaviour: 'slow', slowMs: 40, options }),
      ),
    );
    consumers.push(leaving, staying);
    startProducing();

    const runningOn = async (consumer: string) => {
      const started = (await records(redis, `${record}:started`)).filter(
        (r) => r.consumer === consumer,
      ).length;
      const done = (await records(redis, `${record}:done`)).filter(
        (r) => r.consumer === consumer,
      ).length;
      return { started, done, running: started - done };
    };
    await waitFor(
      async () => {
        const { done, running } = await runningOn('leaving');
        return done >= 30 && running > 0;
      },
      { message: 'the leaving consumer to be busy' },
    );
    await leaving.close();
    // Everything it started, it finished and acknowledged before close() returned.
    expect((await runningOn('leaving')).running).toBe(0);
    expect(
      (await pendingRows(redis, stream, group)).filter(
        ([, owner]) => owner === 'leaving',
      ),
    ).toEqual([]);
    const leftBehind = (await redis.xinfo(
      'CONSUMERS',
      stream,
      group,
    )) as unknown[][];
    expect(leftBehind.map((info) => info[1])).toEqual(['staying']);

    // Production goes on; the remaining consumer takes everything.
    await waitFor(
      async () =>
        (await runningOn('staying')).done >=
        (await runningOn('leaving')).done + 30,
      {
        message: 'the staying consumer to carry on',
      },
    );
    const produced = await stopProducing();
    await expectAllHandled(produced);

    const done = (await records(redis, `${record}:done`)).map((r) => r.id);
    const started = (await records(redis, `${record}:started`)).map(
      (r) => r.id,
    );
    expect(done).toHaveLength(produced.length);
    expect(new Set(done).size).toBe(produced.length);
    expect(started).toHaveLength(produced.length);
  });

  it('past shutdownTimeoutMs releases unfinished entries at once to the other consumers', async () => {
    // A long claimIdleMs: only the release can make the other consumer pick them up soon.
    const claimIdleMs = 20_000;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const leaving = spawnConsumer(
      consumerConfig(
        spec('leaving', {
          behaviour: 'slow',
          slowMs: 60_000,
          options: { claimIdleMs, concurrency: 5, shutdownTimeoutMs: 200 },
        }),
      ),
    );
    await leaving.ready;
    const produced: string[] = [];
    for (let n = 0; n < 5; n += 1)
      produced.push((await redis.xadd(stream, '*', 'n', String(n)))!);
    await waitFor(async () => (await redis.llen(`${record}:started`)) === 5, {
      message: 'five slow handlers running',
    });

    const staying = await runConsumer(
      consumerConfig(spec('staying', { options: { claimIdleMs } })),
    );
    consumers.push(staying);
    const closedAt = Date.now();
    await leaving.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });

    await expectAllHandled(produced);
    expect(Date.now() - closedAt).toBeLessThan(claimIdleMs / 2);
    const done = await records(redis, `${record}:done`);
    expect(done.map((r) => [r.consumer, r.deliveries])).toEqual(
      produced.map(() => ['staying', 2]),
    );
    expect(done.map((r) => r.id).sort()).toEqual([...produced].sort());
  });
});
