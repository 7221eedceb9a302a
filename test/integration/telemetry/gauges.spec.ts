import { lastValueFrom } from 'rxjs';
import { fastOptions } from '../../support/apps.js';
import { listController } from '../../support/list-queue.js';
import { gaugeOf, totalOf, useOtelSdk } from '../../support/otel.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { deferred, waitFor } from '../../support/wait.js';
import { redisUrl } from '../../support/redis.js';

describe('telemetry: gauges read from Redis', () => {
  const sdk = useOtelSdk();
  const scene = useScene('otel-g');
  /** Handlers that never finish until the test lets them. */
  let hold = deferred();
  beforeEach(() => {
    hold = deferred();
  });
  afterEach(() => hold.resolve());

  it('reports stream length, lag, lag age, pending, oldest pending age and dead-letter length; released entries at shutdown', async () => {
    // Five entries added a minute ago, and two dead letters already there.
    const minuteAgo = Date.now() - 60_000;
    for (let i = 1; i <= 5; i += 1) await scene.redis.xadd(scene.stream, `${minuteAgo}-${i}`, 'n', String(i));
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '0');
    await scene.redis.xadd(`{${scene.stream}}:dlq`, '*', 'n', 'x');
    await scene.redis.xadd(`{${scene.stream}}:dlq`, '*', 'n', 'y');
    const started = deferred();
    const handler = streamsController([scene.stream], async () => {
      started.resolve();
      await hold.promise;
    });
    const { app } = await scene.start(
      [handler],
      fastOptions({
        group: scene.group,
        consumer: 'c1',
        concurrency: 1,
        shutdownTimeoutMs: 50,
        telemetry: { gaugeIntervalMs: 100, perConsumer: true },
      }),
    );
    await started.promise;
    const of = { 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group };
    await waitFor(async () => gaugeOf(await sdk.collect(), 'nrs.group.pending', of) === 1, { message: 'one entry pending' });
    const collected = await sdk.collect();
    expect(gaugeOf(collected, 'nrs.stream.length', of)).toBe(5);
    // Redis 6.2 does not count a group's lag: the gauge is left out there.
    const version = /redis_version:(\d+)/.exec(await scene.redis.info('server'))?.[1];
    expect(gaugeOf(collected, 'nrs.group.lag', of)).toBe(Number(version) >= 7 ? 4 : undefined);
    expect(gaugeOf(collected, 'nrs.group.lag.age', of)).toBeGreaterThanOrEqual(59);
    expect(gaugeOf(collected, 'nrs.group.pending.oldest.age', of)).toBeGreaterThanOrEqual(59);
    expect(gaugeOf(collected, 'nrs.dead_letter.length', of)).toBe(2);
    expect(gaugeOf(collected, 'nrs.consumer.pending', { ...of, 'messaging.client.id': 'c1' })).toBe(1);
    const age = collected.find((metric) => metric.descriptor.name === 'nrs.group.lag.age');
    expect(age?.descriptor.unit).toBe('s');

    // The handler outlives shutdownTimeoutMs: its entry is released to the group.
    await scene.close(app);
    const after = await sdk.collect();
    expect(totalOf(after, 'nrs.settled.messages', { ...of, 'nrs.outcome': 'released' })).toBe(1);
    expect(totalOf(after, 'nrs.settled.messages', { ...of, 'nrs.outcome': 'ack' })).toBe(0);
  });

  it('reports a list queue’s waiting, processing, retry and dead-letter lengths', async () => {
    const started = deferred();
    const handler = listController(scene.stream, async () => {
      started.resolve();
      await hold.promise;
    });
    await scene.start(
      [handler],
      fastOptions({ group: scene.group, consumer: 'c1', concurrency: 1, shutdownTimeoutMs: 50, telemetry: { gaugeIntervalMs: 100 } }),
    );
    for (const job of ['a', 'b', 'c']) await lastValueFrom(scene.client.emit(`list:${scene.stream}`, job));
    await started.promise;
    const of = (part: string) => ({ 'messaging.destination.name': scene.stream, 'nrs.list.part': part });
    await waitFor(
      async () => {
        const collected = await sdk.collect();
        return gaugeOf(collected, 'nrs.list.length', of('processing')) === 1 && gaugeOf(collected, 'nrs.list.length', of('list')) === 2;
      },
      { message: 'two waiting, one in processing' },
    );
    const collected = await sdk.collect();
    expect(gaugeOf(collected, 'nrs.list.length', of('retry'))).toBe(0);
    expect(gaugeOf(collected, 'nrs.dead_letter.length', { 'messaging.destination.name': scene.stream })).toBe(0);
  });

  it('reads the gauges of prefixed keys under the names the handlers use (ioredis keyPrefix)', async () => {
    const keyPrefix = `${scene.name('shop')}:`;
    for (let i = 1; i <= 3; i += 1) await scene.redis.xadd(`${keyPrefix}${scene.stream}`, '*', 'n', String(i));
    await scene.redis.xadd(`${keyPrefix}{${scene.stream}}:dlq`, '*', 'n', 'x');
    const handler = streamsController([scene.stream], () => undefined);
    const url = new URL(redisUrl());
    await scene.start(
      [handler],
      fastOptions({
        group: scene.group,
        consumer: 'c1',
        startFrom: 'beginning',
        connection: { host: url.hostname, port: Number(url.port), keyPrefix },
        telemetry: { gaugeIntervalMs: 100 },
      }),
    );
    const of = { 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group };
    await waitFor(
      async () => {
        const collected = await sdk.collect();
        return gaugeOf(collected, 'nrs.stream.length', of) === 3 && gaugeOf(collected, 'nrs.group.pending', of) === 0;
      },
      { message: 'the prefixed stream read and drained' },
    );
    expect(gaugeOf(await sdk.collect(), 'nrs.dead_letter.length', of)).toBe(1);
  });
});
