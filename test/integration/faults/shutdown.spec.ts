import { runConsumer } from '../../fixtures/consumer-app.js';
import { pendingCount, pendingRows } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records, spawnConsumer } from './children.js';
import { useFaultScene } from './scene.js';

describe('close() under load', () => {
  let stopProducing: () => Promise<string[]>;
  const scene = useFaultScene('close', { beforeTeardown: () => stopProducing() });

  beforeEach(() => {
    stopProducing = () => Promise.resolve([]);
  });

  /**
   * Adds entries until the returned function is called, keeping at most
   * `window` of them unhandled, so the consumers always have work queued.
   */
  function startProducing(window = 40): void {
    const produced: string[] = [];
    let stopped = false;
    const loop = (async () => {
      for (let n = 0; !stopped; n += 1) {
        produced.push((await scene.redis.xadd(scene.stream, '*', 'n', String(n)))!);
        if (produced.length % window === 0) {
          await waitFor(
            async () => stopped || (await scene.redis.scard(`${scene.record}:handled`)) >= produced.length - window / 2,
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
      async () => (await scene.redis.scard(`${scene.record}:handled`)) >= produced.length,
      {
        timeoutMs: 15_000,
        message: `all ${produced.length} entries handled`,
      },
    );
    const handled = new Set(await scene.redis.smembers(`${scene.record}:handled`));
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(
      async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0,
      { message: 'nothing pending' },
    );
  }

  it('lets running handlers finish, hands the rest to the other consumer: each entry handled exactly once', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const options = { concurrency: 10, shutdownTimeoutMs: 2_000 };
    const leaving = await runConsumer(
      consumerConfig(
        scene.spec('leaving', { behaviour: 'slow', slowMs: 40, options }),
      ),
    );
    const staying = await runConsumer(
      consumerConfig(
        scene.spec('staying', { behaviour: 'slow', slowMs: 40, options }),
      ),
    );
    scene.consumers.push(leaving, staying);
    startProducing();

    const runningOn = async (consumer: string) => {
      const started = (await records(scene.redis, `${scene.record}:started`)).filter(
        (r) => r.consumer === consumer,
      ).length;
      const done = (await records(scene.redis, `${scene.record}:done`)).filter(
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
      (await pendingRows(scene.redis, scene.stream, scene.group)).filter(
        ([, owner]) => owner === 'leaving',
      ),
    ).toEqual([]);
    const leftBehind = (await scene.redis.xinfo(
      'CONSUMERS',
      scene.stream,
      scene.group,
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

    const done = (await records(scene.redis, `${scene.record}:done`)).map((r) => r.id);
    const started = (await records(scene.redis, `${scene.record}:started`)).map(
      (r) => r.id,
    );
    expect(done).toHaveLength(produced.length);
    expect(new Set(done).size).toBe(produced.length);
    expect(started).toHaveLength(produced.length);
  });

  it('past shutdownTimeoutMs releases unfinished entries at once to the other consumers', async () => {
    // A long claimIdleMs: only the release can make the other consumer pick them up soon.
    const claimIdleMs = 20_000;
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const leaving = spawnConsumer(
      consumerConfig(
        scene.spec('leaving', {
          behaviour: 'slow',
          slowMs: 60_000,
          options: { claimIdleMs, concurrency: 5, shutdownTimeoutMs: 200 },
        }),
      ),
    );
    await leaving.ready;
    const produced: string[] = [];
    for (let n = 0; n < 5; n += 1)
      produced.push((await scene.redis.xadd(scene.stream, '*', 'n', String(n)))!);
    await waitFor(async () => (await scene.redis.llen(`${scene.record}:started`)) === 5, {
      message: 'five slow handlers running',
    });

    const staying = await runConsumer(
      consumerConfig(scene.spec('staying', { options: { claimIdleMs } })),
    );
    scene.consumers.push(staying);
    const closedAt = Date.now();
    await leaving.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });

    await expectAllHandled(produced);
    expect(Date.now() - closedAt).toBeLessThan(claimIdleMs / 2);
    const done = await records(scene.redis, `${scene.record}:done`);
    expect(done.map((r) => [r.consumer, r.deliveries])).toEqual(
      produced.map(() => ['staying', 2]),
    );
    expect(done.map((r) => r.id).sort()).toEqual([...produced].sort());
  });
});
