import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('a handler running longer than claimIdleMs', () => {
  const scene = useScene('lease');

  it('keeps its entry: a second consumer does not handle it, and Redis counts one delivery', async () => {
    const claimIdleMs = 1_000;
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    await scene.runConsumer('slow', {
      behaviour: 'slow',
      slowMs: 3 * claimIdleMs,
      options: { claimIdleMs },
    });
    const id = await scene.produce.add('n', '1');
    await waitFor(async () => (await scene.probe.recordCount('started')) === 1, {
      message: 'the slow handler to start',
    });
    // Another consumer of the group, scanning for idle entries every 100 ms from now on.
    await scene.runConsumer('other', { options: { claimIdleMs } });

    // While the handler runs, its entry never gets idle for claimIdleMs and stays delivered once.
    let maxIdle = 0;
    await waitFor(
      async () => {
        const rows = await scene.probe.pendingRows();
        for (const [pendingId, owner, idle, deliveries] of rows) {
          expect([pendingId, owner, deliveries]).toEqual([id, 'slow', 1]);
          maxIdle = Math.max(maxIdle, idle);
        }
        return (await scene.probe.recordCount('done')) === 1;
      },
      {
        timeoutMs: 6 * claimIdleMs,
        intervalMs: 50,
        message: 'the slow handler to finish',
      },
    );
    expect(maxIdle).toBeLessThan(claimIdleMs);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the ack' });

    expect(await scene.probe.records('started')).toEqual([{ id, consumer: 'slow', deliveries: 1 }]);
    expect(await scene.probe.records('done')).toEqual([{ id, consumer: 'slow', deliveries: 1 }]);
  });
});
