import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { RedisStreamsStatus, type RedisStreamsContext, type RedisStreamsServer } from '../../../../src/index.js';
import { addThroughRestarts } from '../../../support/produce.js';
import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

const HANDLED = 'HANDLED';

describe('redis-server restarted under load', () => {
  const scene = useScene('restart');

  it('loses nothing: 10,000 entries from 4 producers are all handled, status goes reconnecting -> connected', async () => {
    // Its own server, with every acknowledged write fsynced to the append-only file.
    const redis = await scene.ownRedis({ appendOnly: true });
    const url = redis.url;
    const admin = scene.admin(url, { maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
    const { stream, group } = scene;
    await admin.xgroup('CREATE', stream, group, '0', 'MKSTREAM');

    const handled = new Map<string, number>();
    @Controller()
    class Recorder {
      constructor(@Inject(HANDLED) private readonly seen: Map<string, number>) {}
      @EventPattern<string>(`stream:${stream}`)
      handle(_data: unknown, @Ctx() ctx: RedisStreamsContext): void {
        const id = ctx.getMessageId();
        this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
      }
    }
    const started = await scene.start(
      [Recorder],
      {
        connection: url,
        group,
        consumer: 'c1',
        blockMs: 200,
        claimIdleMs: 1_000,
        claimIntervalMs: 100,
        concurrency: 50,
        batchSize: 50,
        shutdownTimeoutMs: 2_000,
      },
      [{ provide: HANDLED, useValue: handled }],
    );
    const server: RedisStreamsServer = started.server;
    const statuses: string[] = [];
    const subscription = server.status.subscribe((status) => statuses.push(status));

    const produced: string[] = [];
    const producers = [0, 1, 2, 3].map((p) => addThroughRestarts(url, stream, { producer: p, count: 2_500, produced }));
    await waitFor(() => produced.length >= 3_000, {
      timeoutMs: 20_000,
      message: '3,000 entries produced',
    });
    await redis.restart();
    await Promise.all(producers);
    expect(produced).toHaveLength(10_000);
    expect(new Set(produced).size).toBe(10_000);

    await waitFor(() => produced.every((id) => handled.has(id)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'every produced entry handled',
    });
    await waitFor(async () => (await scene.probe.with({ redis: admin }).pendingCount()) === 0, { message: 'nothing pending' });
    subscription.unsubscribe();

    const reconnecting = statuses.indexOf(RedisStreamsStatus.RECONNECTING);
    expect(reconnecting).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(reconnecting)).toContain(RedisStreamsStatus.CONNECTED);
    expect(statuses.at(-1)).toBe(RedisStreamsStatus.CONNECTED);
    // At least once; duplicates only for entries in flight when Redis went away.
    const duplicates = [...handled.values()].filter((count) => count > 1).length;
    expect(duplicates).toBeLessThan(500);
  });
});

describe('redis-server down', () => {
  const scene = useScene('down');

  it('close() still returns soon after shutdownTimeoutMs; the unfinished entry stays pending and is handled later', async () => {
    const redis = await scene.ownRedis({ appendOnly: true });
    const admin = scene.admin(redis.url, { maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
    const { stream, group } = scene;
    const probe = scene.probe.with({ redis: admin });
    await admin.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const seen: Array<{ id: string; consumer: string; deliveries: number }> = [];

    @Controller()
    class HangsOnFirstDelivery {
      constructor(@Inject(HANDLED) private readonly log: typeof seen) {}
      @EventPattern<string>(`stream:${stream}`)
      async handle(_data: unknown, @Ctx() ctx: RedisStreamsContext): Promise<void> {
        this.log.push({
          id: ctx.getMessageId(),
          consumer: ctx.getConsumer(),
          deliveries: ctx.getDeliveryCount(),
        });
        if (ctx.getDeliveryCount() === 1) await new Promise<never>(() => undefined);
      }
    }
    const options = {
      connection: redis.url,
      group,
      blockMs: 200,
      claimIdleMs: 1_000,
      claimIntervalMs: 100,
      shutdownTimeoutMs: 300,
    };
    const first = await scene.start([HangsOnFirstDelivery], { ...options, consumer: 'c1' }, [{ provide: HANDLED, useValue: seen }]);
    const id = await scene.produce.with({ redis: admin }).add('n', '1');
    await waitFor(() => seen.length === 1, { message: 'the handler to start' });

    process.kill(redis.pid, 'SIGKILL');
    await waitFor(() => !isAlive(redis.pid), { message: 'redis-server gone' });
    const startedAt = Date.now();
    await scene.close(first.app);
    // shutdownTimeoutMs, then one second for acks, then it gives up on Redis.
    expect(Date.now() - startedAt).toBeLessThan(3_000);

    // Redis back (from its append-only file): the entry is still pending on c1, and another consumer claims it.
    await redis.restart();
    expect((await probe.pendingRows()).map(([pendingId, owner]) => [pendingId, owner])).toEqual([[id, 'c1']]);
    await scene.start([HangsOnFirstDelivery], { ...options, consumer: 'c2' }, [{ provide: HANDLED, useValue: seen }]);
    await waitFor(async () => (await probe.pendingCount()) === 0, { message: 'the entry handled and acked' });
    expect(seen).toEqual([
      { id, consumer: 'c1', deliveries: 1 },
      { id, consumer: 'c2', deliveries: 2 },
    ]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
