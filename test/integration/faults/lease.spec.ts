import { runConsumer } from '../../fixtures/consumer-app.js';
import { pendingCount, pendingRows } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records } from './children.js';
import { useFaultScene } from './scene.js';

describe('a handler running longer than claimIdleMs', () => {
  const scene = useFaultScene('lease');

  it('keeps its entry: a second consumer does not handle it, and Redis counts one delivery', async () => {
    const claimIdleMs = 1_000;
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const slow = await runConsumer(
      consumerConfig(
        scene.spec('slow', {
          behaviour: 'slow',
          slowMs: 3 * claimIdleMs,
          options: { claimIdleMs },
        }),
      ),
    );
    scene.consumers.push(slow);
    const id = await scene.redis.xadd(scene.stream, '*', 'n', '1');
    await waitFor(async () => (await scene.redis.llen(`${scene.record}:started`)) === 1, {
      message: 'the slow handler to start',
    });
    // Another consumer of the group, scanning for idle entries every 100 ms from now on.
    const other = await runConsumer(
      consumerConfig(scene.spec('other', { options: { claimIdleMs } })),
    );
    scene.consumers.push(other);

    // While the handler runs, its entry never gets idle for claimIdleMs and stays delivered once.
    let maxIdle = 0;
    await waitFor(
      async () => {
        const rows = await pendingRows(scene.redis, scene.stream, scene.group);
        for (const [pendingId, owner, idle, deliveries] of rows) {
          expect([pendingId, owner, deliveries]).toEqual([id, 'slow', 1]);
          maxIdle = Math.max(maxIdle, idle);
        }
        return (await scene.redis.llen(`${scene.record}:done`)) === 1;
      },
      {
        timeoutMs: 6 * claimIdleMs,
        intervalMs: 50,
        message: 'the slow handler to finish',
      },
    );
    expect(maxIdle).toBeLessThan(claimIdleMs);
    await waitFor(
      async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0,
      { message: 'the ack' },
    );

    expect(await records(scene.redis, `${scene.record}:started`)).toEqual([
      { id, consumer: 'slow', deliveries: 1 },
    ]);
    expect(await records(scene.redis, `${scene.record}:done`)).toEqual([
      { id, consumer: 'slow', deliveries: 1 },
    ]);
  });
});
