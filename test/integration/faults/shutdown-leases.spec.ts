import { runConsumer, type RunningConsumer } from '../../fixtures/consumer-app.js';
import { pendingCount } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records, type ConsumerSpec } from './children.js';
import { useFaultScene } from './scene.js';

describe('handlers still running while close() waits', () => {
  const scene = useFaultScene('drain');

  async function start(consumer: string, extra: Partial<ConsumerSpec> = {}): Promise<RunningConsumer> {
    const running = await runConsumer(
      consumerConfig(scene.spec(consumer, { behaviour: 'slow', slowMs: 1_500, ...extra })),
    );
    scene.consumers.push(running);
    return running;
  }

  it('keeps renewing the lease of a handler that outlives claimIdleMs during shutdown', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 500, shutdownTimeoutMs: 3_000 } });
    await start('staying', { options: { claimIdleMs: 500 } });
    const id = await scene.redis.xadd(scene.stream, '*', 'n', '1');
    await waitFor(async () => (await records(scene.redis, `${scene.record}:started`)).length === 1, { message: 'handler started' });
    const owner = (await records(scene.redis, `${scene.record}:started`))[0]!.consumer;
    const closing = owner === 'leaving' ? leaving : scene.consumers[1]!;
    await closing.app.close();
    await waitFor(async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0, { message: 'acked' });
    expect(await records(scene.redis, `${scene.record}:started`)).toEqual([{ id, consumer: owner, deliveries: 1 }]);
    expect(await records(scene.redis, `${scene.record}:done`)).toEqual([{ id, consumer: owner, deliveries: 1 }]);
  });

  it('drops the late ack of a handler that outlived shutdownTimeoutMs, whose entry another consumer handles', async () => {
    const leaving = await start('leaving', { options: { claimIdleMs: 20_000, shutdownTimeoutMs: 100 } });
    const id = await scene.redis.xadd(scene.stream, '*', 'n', '1');
    await waitFor(async () => (await records(scene.redis, `${scene.record}:started`)).length === 1, { message: 'handler started' });
    await leaving.app.close();
    await start('staying', { behaviour: 'ok', options: { claimIdleMs: 20_000 } });
    await waitFor(async () => (await records(scene.redis, `${scene.record}:done`)).some((r) => r.consumer === 'staying'), {
      message: 'released entry handled by the other consumer',
    });
    await waitFor(async () => (await records(scene.redis, `${scene.record}:done`)).length === 2, { message: 'late handler finished' });
    await waitFor(async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0, { message: 'acked once handled' });
    const started = await records(scene.redis, `${scene.record}:started`);
    expect(started).toEqual([
      { id, consumer: 'leaving', deliveries: 1 },
      { id, consumer: 'staying', deliveries: 2 },
    ]);
  });
});
