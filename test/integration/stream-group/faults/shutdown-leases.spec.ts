import type { RunningConsumer } from '../../../fixtures/consumer-app.js';
import type { ConsumerSpec } from '../../../support/children.js';
import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('handlers still running while close() waits', () => {
  const scene = useScene('drain');

  function start(consumer: string, extra: Partial<ConsumerSpec> = {}): Promise<RunningConsumer> {
    return scene.runConsumer(consumer, { behaviour: 'slow', slowMs: 1_500, ...extra });
  }

  it('keeps renewing the lease of a handler that outlives claimIdleMs during shutdown', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 500, shutdownTimeoutMs: 3_000 } });
    const staying = await start('staying', { options: { claimIdleMs: 500 } });
    const id = await scene.produce.add('n', '1');
    await waitFor(async () => (await scene.probe.records('started')).length === 1, { message: 'handler started' });
    const owner = (await scene.probe.records('started'))[0]!.consumer;
    const closing = owner === 'leaving' ? leaving : staying;
    await closing.app.close();
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acked' });
    expect(await scene.probe.records('started')).toEqual([{ id, consumer: owner, deliveries: 1 }]);
    expect(await scene.probe.records('done')).toEqual([{ id, consumer: owner, deliveries: 1 }]);
  });

  it('drops the late ack of a handler that outlived shutdownTimeoutMs, whose entry another consumer handles', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 20_000, shutdownTimeoutMs: 100 } });
    const id = await scene.produce.add('n', '1');
    await waitFor(async () => (await scene.probe.records('started')).length === 1, { message: 'handler started' });
    await leaving.app.close();
    await start('staying', { behaviour: 'ok', options: { claimIdleMs: 20_000 } });
    await waitFor(async () => (await scene.probe.records('done')).some((r) => r.consumer === 'staying'), {
      message: 'released entry handled by the other consumer',
    });
    await waitFor(async () => (await scene.probe.records('done')).length === 2, { message: 'late handler finished' });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acked once handled' });
    const started = await scene.probe.records('started');
    expect(started).toEqual([
      { id, consumer: 'leaving', deliveries: 1 },
      { id, consumer: 'staying', deliveries: 2 },
    ]);
  });
});
