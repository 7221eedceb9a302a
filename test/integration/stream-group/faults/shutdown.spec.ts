import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('close() under load', () => {
  const scene = useScene('close');

  /**
   * Adds entries until the returned function is called (at the latest after
   * the test), keeping at most `window` of them unhandled, so the consumers
   * always have work queued; the function resolves with the ids written.
   */
  function startProducing(window = 40): () => Promise<string[]> {
    const produced: string[] = [];
    let stopped = false;
    const loop = (async () => {
      for (let n = 0; !stopped; n += 1) {
        produced.push(await scene.produce.add('n', String(n)));
        if (produced.length % window === 0) {
          await waitFor(async () => stopped || (await scene.probe.handledCount()) >= produced.length - window / 2, {
            timeoutMs: 15_000,
            message: 'consumers to catch up with the producer',
          });
        }
      }
    })();
    const stop = async () => {
      stopped = true;
      await loop;
      return produced;
    };
    scene.defer(stop);
    return stop;
  }

  async function expectAllHandled(produced: string[]): Promise<void> {
    await waitFor(async () => (await scene.probe.handledCount()) >= produced.length, {
      timeoutMs: 15_000,
      message: `all ${produced.length} entries handled`,
    });
    const handled = new Set(await scene.probe.handled());
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
  }

  it('lets running handlers finish, hands the rest to the other consumer: each entry handled exactly once', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const options = { concurrency: 10, shutdownTimeoutMs: 2_000 };
    const leaving = await scene.runConsumer('leaving', { behaviour: 'slow', slowMs: 40, options });
    await scene.runConsumer('staying', { behaviour: 'slow', slowMs: 40, options });
    const stopProducing = startProducing();

    const runningOn = async (consumer: string) => {
      const started = (await scene.probe.records('started')).filter((r) => r.consumer === consumer).length;
      const done = (await scene.probe.records('done')).filter((r) => r.consumer === consumer).length;
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
    expect((await scene.probe.pendingRows()).filter(([, owner]) => owner === 'leaving')).toEqual([]);
    expect(await scene.probe.consumers()).toEqual(['staying']);

    // Production goes on; the remaining consumer takes everything.
    await waitFor(async () => (await runningOn('staying')).done >= (await runningOn('leaving')).done + 30, {
      message: 'the staying consumer to carry on',
    });
    const produced = await stopProducing();
    await expectAllHandled(produced);

    const done = (await scene.probe.records('done')).map((r) => r.id);
    const started = (await scene.probe.records('started')).map((r) => r.id);
    expect(done).toHaveLength(produced.length);
    expect(new Set(done).size).toBe(produced.length);
    expect(started).toHaveLength(produced.length);
  });

  it('past shutdownTimeoutMs releases unfinished entries at once to the other consumers', async () => {
    // A long claimIdleMs: only the release can make the other consumer pick them up soon.
    const claimIdleMs = 20_000;
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const leaving = scene.spawnConsumer('leaving', {
      behaviour: 'slow',
      slowMs: 60_000,
      options: { claimIdleMs, concurrency: 5, shutdownTimeoutMs: 200 },
    });
    await leaving.ready;
    const produced: string[] = [];
    for (let n = 0; n < 5; n += 1) produced.push(await scene.produce.add('n', String(n)));
    await waitFor(async () => (await scene.probe.recordCount('started')) === 5, {
      message: 'five slow handlers running',
    });

    await scene.runConsumer('staying', { options: { claimIdleMs } });
    const closedAt = Date.now();
    await leaving.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });

    await expectAllHandled(produced);
    expect(Date.now() - closedAt).toBeLessThan(claimIdleMs / 2);
    const done = await scene.probe.records('done');
    expect(done.map((r) => [r.consumer, r.deliveries])).toEqual(produced.map(() => ['staying', 2]));
    expect(done.map((r) => r.id).sort()).toEqual([...produced].sort());
  });
});
