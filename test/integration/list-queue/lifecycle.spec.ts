import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient, type RedisListContext } from '../../../src/index.js';
import { connectionName } from '../../../src/connection/connection-name.js';
import { fastOptions } from '../../support/apps.js';
import { keysOf, listController, pushAll } from '../../support/list-queue.js';
import { redisUrl, uniqueName } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

describe('list queues: shutdown, connections and keyPrefix', () => {
  const scene = useScene('jobs');

  it('close() waits for running handlers up to shutdownTimeoutMs, leaves the unfinished entry in the processing list, and the restarted consumer handles it', async () => {
    const started = deferred();
    let signal: AbortSignal | undefined;
    const { app } = await scene.start(
      [
        listController(scene.stream, async (_data, ctx: RedisListContext) => {
          signal = ctx.signal;
          started.resolve();
          await new Promise<never>(() => undefined);
        }),
      ],
      fastOptions({ group: scene.group, consumer: 'c1', shutdownTimeoutMs: 200, claimIdleMs: 60_000 }),
    );
    await pushAll(scene.redis, scene.stream, ['long-job']);
    await started.promise;
    await scene.close(app);
    expect(signal?.aborted).toBe(true);
    const keys = keysOf(scene.stream, 'c1');
    expect(await scene.redis.lrange(keys.processing, 0, -1)).toEqual(['long-job']);
    // The liveness key is left to expire: someone else would recover the entry then.
    expect(await scene.redis.exists(keys.alive)).toBe(1);

    const seen: Array<{ data: unknown; deliveries: number }> = [];
    await scene.start(
      [listController(scene.stream, (data, ctx) => void seen.push({ data, deliveries: ctx.getDeliveryCount() }))],
      fastOptions({ group: scene.group, consumer: 'c1', claimIdleMs: 60_000 }),
    );
    await waitFor(() => seen.length === 1, { message: 'the unfinished entry handled after the restart' });
    expect(seen).toEqual([{ data: 'long-job', deliveries: 2 }]);
  });

  it('unregisters on a clean close with nothing left', async () => {
    const { app } = await scene.start([listController(scene.stream, () => undefined)], fastOptions({ group: scene.group, consumer: 'c1' }));
    const keys = keysOf(scene.stream, 'c1');
    expect(await scene.redis.sismember(keys.registry, 'c1')).toBe(1);
    await scene.close(app);
    expect(await scene.redis.exists(keys.alive, keys.registry, keys.processing)).toBe(0);
  });

  it('goes on after its blocking connection is killed', async () => {
    const seen: unknown[] = [];
    await scene.start(
      [listController(scene.stream, (data) => void seen.push(data))],
      fastOptions({ group: scene.group, consumer: 'c1', blockMs: 5_000 }),
    );
    const name = connectionName(scene.group, 'c1', 'list');
    await waitFor(async () => (await scene.probe.clientsNamed(name)).some((client) => client.cmd === 'blmove'), {
      message: 'the BLMOVE blocking',
    });
    const [client] = await scene.probe.clientsNamed(name);
    expect(await scene.redis.client('KILL', 'ID', client!.id!)).toBe(1);
    await pushAll(scene.redis, scene.stream, ['after-kill']);
    await waitFor(() => seen.length === 1, { message: 'the entry pushed after the kill handled' });
    expect(seen).toEqual(['after-kill']);
  });

  it('puts the keyPrefix in front of every key exactly once, with retries and dead letters', async () => {
    const keyPrefix = `${uniqueName('shop')}:`;
    const seen: Array<{ data: unknown; deliveries: number }> = [];
    await scene.start(
      [
        listController(scene.stream, (data, ctx) => {
          seen.push({ data, deliveries: ctx.getDeliveryCount() });
          if (data === 'fails') throw new Error('always');
        }),
      ],
      fastOptions({
        group: scene.group,
        consumer: 'c1',
        connection: `${redisUrl()}?keyPrefix=${encodeURIComponent(keyPrefix)}`,
        maxDeliveries: 2,
        retry: { baseDelayMs: 20, jitter: 0 },
      }),
    );
    const client = scene.track(new RedisStreamsClient({ connection: `${redisUrl()}?keyPrefix=${encodeURIComponent(keyPrefix)}` }));
    await lastValueFrom(client.emit(`list:${scene.stream}`, { n: 1 }));
    await lastValueFrom(client.emit(`list:${scene.stream}`, 'fails'));
    await waitFor(async () => (await scene.redis.xlen(`${keyPrefix}{${scene.stream}}:dlq`)) === 1, {
      message: 'the failing entry dead-lettered',
    });
    expect(seen.map((s) => s.deliveries).sort()).toEqual([1, 1, 2]);
    const keys = await scene.redis.keys(`*${scene.stream}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.startsWith(keyPrefix)).toBe(true);
      expect(key.startsWith(`${keyPrefix}${keyPrefix}`)).toBe(false);
    }
    expect(keys.sort()).toEqual(
      [`${keyPrefix}{${scene.stream}}:alive:c1`, `${keyPrefix}{${scene.stream}}:consumers`, `${keyPrefix}{${scene.stream}}:dlq`].sort(),
    );
  });

  it('after its command connection is lost, puts entries left in its processing list (a take whose reply was lost) back and handles them', async () => {
    const seen: unknown[] = [];
    await scene.start([listController(scene.stream, (data) => void seen.push(data))], fastOptions({ group: scene.group, consumer: 'c1' }));
    // As if a take had moved these and its reply had been lost with the connection.
    await scene.redis.rpush(keysOf(scene.stream, 'c1').processing, 'orphan-1', 'orphan-2');
    const [commands] = await scene.probe.clientsNamed(connectionName(scene.group, 'c1', 'commands'));
    expect(await scene.redis.client('KILL', 'ID', commands!.id!)).toBe(1);
    await waitFor(() => seen.length === 2, { message: 'the two orphans handled' });
    expect(seen).toEqual(['orphan-1', 'orphan-2']);
    await waitFor(async () => (await scene.redis.llen(keysOf(scene.stream, 'c1').processing)) === 0, { message: 'processing list empty' });
  });
});
