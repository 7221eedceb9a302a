import { DEAD_LETTER_FIELDS } from '../../../src/index.js';
import { runConsumer } from '../../fixtures/consumer-app.js';
import { pendingCount, pendingRows, streamEntries } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { consumerConfig, records, spawnConsumer } from './children.js';
import { useFaultScene } from './scene.js';

describe('a consumer process that dies', () => {
  const scene = useFaultScene('crash');

  async function produce(count: number, from = 0): Promise<string[]> {
    const pipeline = scene.redis.pipeline();
    for (let i = from; i < from + count; i += 1)
      pipeline.xadd(scene.stream, '*', 'n', String(i));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  it('with SIGKILL mid-handler leaves all of its entries to another consumer; every entry is handled', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '0', 'MKSTREAM');
    const produced = await produce(60);
    const victim = spawnConsumer(
      // Handlers of 0-300 ms (flaky without failures), so that some are always running.
      consumerConfig(
        scene.spec('victim', {
          behaviour: 'flaky',
          failRate: 0,
          slowMs: 300,
          options: { concurrency: 5, claimIdleMs: 800 },
        }),
      ),
    );
    await victim.ready;
    await waitFor(
      async () => {
        const replies =
          (await scene.redis
            .multi()
            .llen(`${scene.record}:started`)
            .llen(`${scene.record}:done`)
            .exec()) ?? [];
        const [started, done] = replies.map(([, count]) => Number(count));
        return done! >= 10 && started! > done!;
      },
      { message: 'the victim to have handled 10 entries and be running more' },
    );
    await victim.kill('SIGKILL');

    // Killed with handlers running: entries it started but never finished stay pending on it.
    const started = new Set(
      (await records(scene.redis, `${scene.record}:started`)).map((r) => r.id),
    );
    const finished = new Set(
      (await records(scene.redis, `${scene.record}:done`)).map((r) => r.id),
    );
    const interrupted = [...started].filter((id) => !finished.has(id));
    expect(interrupted.length).toBeGreaterThan(0);
    const orphaned = (await pendingRows(scene.redis, scene.stream, scene.group))
      .filter(([, consumer]) => consumer === 'victim')
      .map(([id]) => id);
    expect(orphaned).toEqual(expect.arrayContaining(interrupted));

    const survivor = await runConsumer(
      consumerConfig(scene.spec('survivor', { options: { claimIdleMs: 800 } })),
    );
    scene.consumers.push(survivor);
    produced.push(...(await produce(20, 60)));

    await waitFor(
      async () => (await scene.redis.scard(`${scene.record}:handled`)) >= produced.length,
      {
        message: 'every produced entry handled',
      },
    );
    const handled = new Set(await scene.redis.smembers(`${scene.record}:handled`));
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(
      async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0,
      { message: 'nothing pending' },
    );

    // The orphans were claimed by the survivor: Redis counted a second delivery.
    const survivorDone = (await records(scene.redis, `${scene.record}:done`)).filter(
      (r) => r.consumer === 'survivor',
    );
    for (const id of orphaned) {
      expect(survivorDone.find((r) => r.id === id)).toEqual({
        id,
        consumer: 'survivor',
        deliveries: 2,
      });
    }
  });

  it('with SIGKILL, restarted under its old name, resumes its own pending entries at once', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '0', 'MKSTREAM');
    const produced = await produce(5);
    // A claimIdleMs far beyond the test's waits: only re-reading its own pending entries can finish them.
    const options = { concurrency: 5, claimIdleMs: 120_000 };
    const victim = spawnConsumer(consumerConfig(scene.spec('phoenix', { behaviour: 'hang', options })));
    await waitFor(async () => (await scene.redis.llen(`${scene.record}:started`)) === produced.length, {
      message: 'the victim to be running every entry',
    });
    await victim.kill('SIGKILL');
    expect((await pendingRows(scene.redis, scene.stream, scene.group)).map(([id, consumer]) => [id, consumer])).toEqual(
      produced.map((id) => [id, 'phoenix']),
    );

    const restarted = spawnConsumer(consumerConfig(scene.spec('phoenix', { options })));
    await restarted.ready;
    await waitFor(async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0, {
      message: 'the restarted consumer to finish its own pending entries',
      timeoutMs: 5_000,
    });
    const done = await records(scene.redis, `${scene.record}:done`);
    expect(done.map((r) => r.id).sort()).toEqual([...produced].sort());
    expect(done.every((r) => r.consumer === 'phoenix' && r.deliveries === 2)).toBe(true);
  });

  it('every time its handler hangs ends the entry in the dead-letter stream after maxDeliveries', async () => {
    const maxDeliveries = 3;
    const options = { maxDeliveries, claimIdleMs: 500 };
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const id = await scene.redis.xadd(scene.stream, '*', 'sku', 'A1', 'qty', '2');
    expect(id).not.toBeNull();

    // Each process picks the entry up (read, then claimed from the dead one), hangs, and is killed.
    for (let delivery = 1; delivery <= maxDeliveries; delivery += 1) {
      const child = spawnConsumer(
        consumerConfig(
          scene.spec(`doomed-${delivery}`, { behaviour: 'hang', options }),
        ),
      );
      await waitFor(
        async () => (await scene.redis.llen(`${scene.record}:started`)) === delivery,
        {
          message: `delivery ${delivery} to start`,
        },
      );
      expect(await pendingRows(scene.redis, scene.stream, scene.group)).toEqual([
        [id, `doomed-${delivery}`, expect.any(Number), delivery],
      ]);
      await child.kill('SIGKILL');
    }

    // The next consumer claims it once more, past the limit, and dead-letters it without running the handler.
    spawnConsumer(
      consumerConfig(scene.spec('doomed-4', { behaviour: 'hang', options })),
    );
    const deadLetter = `${scene.stream}:dlq`;
    await waitFor(async () => (await scene.redis.xlen(deadLetter)) > 0, {
      message: 'the dead-letter entry',
    });
    await waitFor(
      async () => (await pendingCount(scene.redis, scene.stream, scene.group)) === 0,
      { message: 'the original acked' },
    );

    const dead = await streamEntries(scene.redis, deadLetter);
    expect(dead).toHaveLength(1);
    const fields = dead[0]!.fields;
    expect(fields).toMatchObject({
      sku: 'A1',
      qty: '2',
      [DEAD_LETTER_FIELDS.stream]: scene.stream,
      [DEAD_LETTER_FIELDS.id]: id,
      [DEAD_LETTER_FIELDS.group]: scene.group,
      [DEAD_LETTER_FIELDS.consumer]: 'doomed-4',
      [DEAD_LETTER_FIELDS.deliveries]: String(maxDeliveries + 1),
    });
    expect(fields[DEAD_LETTER_FIELDS.error]).toContain('maxDeliveries');
    expect(Date.parse(fields[DEAD_LETTER_FIELDS.time]!)).toBeGreaterThan(
      Date.now() - 60_000,
    );
    // The handler ran maxDeliveries times, never more.
    expect(
      (await records(scene.redis, `${scene.record}:started`)).map((r) => [
        r.consumer,
        r.deliveries,
      ]),
    ).toEqual([
      ['doomed-1', 1],
      ['doomed-2', 2],
      ['doomed-3', 3],
    ]);
    expect(await scene.redis.scard(`${scene.record}:handled`)).toBe(0);
  });
});
