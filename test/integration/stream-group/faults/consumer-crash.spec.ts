import { DEAD_LETTER_FIELDS } from '../../../../src/index.js';
import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('a consumer process that dies', () => {
  const scene = useScene('crash');

  it('with SIGKILL mid-handler leaves all of its entries to another consumer; every entry is handled', async () => {
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '0', 'MKSTREAM');
    const produced = await scene.produce.addMany(60);
    // Handlers of 0-300 ms (flaky without failures), so that some are always running.
    const victim = scene.spawnConsumer('victim', {
      behaviour: 'flaky',
      failRate: 0,
      slowMs: 300,
      options: { concurrency: 5, claimIdleMs: 800 },
    });
    await victim.ready;
    await waitFor(
      async () => {
        const replies = (await scene.redis.multi().llen(`${scene.record}:started`).llen(`${scene.record}:done`).exec()) ?? [];
        const [started, done] = replies.map(([, count]) => Number(count));
        return done! >= 10 && started! > done!;
      },
      { message: 'the victim to have handled 10 entries and be running more' },
    );
    await victim.kill('SIGKILL');

    // Killed with handlers running: entries it started but never finished stay pending on it.
    const started = new Set((await scene.probe.records('started')).map((r) => r.id));
    const finished = new Set((await scene.probe.records('done')).map((r) => r.id));
    const interrupted = [...started].filter((id) => !finished.has(id));
    expect(interrupted.length).toBeGreaterThan(0);
    const orphaned = (await scene.probe.pendingRows()).filter(([, consumer]) => consumer === 'victim').map(([id]) => id);
    expect(orphaned).toEqual(expect.arrayContaining(interrupted));

    await scene.runConsumer('survivor', { options: { claimIdleMs: 800 } });
    produced.push(...(await scene.produce.addMany(20, { from: 60 })));

    await waitFor(async () => (await scene.probe.handledCount()) >= produced.length, {
      message: 'every produced entry handled',
    });
    const handled = new Set(await scene.probe.handled());
    expect(produced.filter((id) => !handled.has(id))).toEqual([]);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });

    // The orphans were claimed by the survivor: Redis counted a second delivery.
    const survivorDone = (await scene.probe.records('done')).filter((r) => r.consumer === 'survivor');
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
    const produced = await scene.produce.addMany(5);
    // A claimIdleMs far beyond the test's waits: only re-reading its own pending entries can finish them.
    const options = { concurrency: 5, claimIdleMs: 120_000 };
    const victim = scene.spawnConsumer('phoenix', { behaviour: 'hang', options });
    await waitFor(async () => (await scene.probe.recordCount('started')) === produced.length, {
      message: 'the victim to be running every entry',
    });
    await victim.kill('SIGKILL');
    expect((await scene.probe.pendingRows()).map(([id, consumer]) => [id, consumer])).toEqual(produced.map((id) => [id, 'phoenix']));

    const restarted = scene.spawnConsumer('phoenix', { options });
    await restarted.ready;
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, {
      message: 'the restarted consumer to finish its own pending entries',
      timeoutMs: 5_000,
    });
    const done = await scene.probe.records('done');
    expect(done.map((r) => r.id).sort()).toEqual([...produced].sort());
    expect(done.every((r) => r.consumer === 'phoenix' && r.deliveries === 2)).toBe(true);
  });

  it('every time its handler hangs ends the entry in the dead-letter stream after maxDeliveries', async () => {
    const maxDeliveries = 3;
    const options = { maxDeliveries, claimIdleMs: 500 };
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const id = await scene.produce.add('sku', 'A1', 'qty', '2');
    expect(id).not.toBeNull();

    // Each process picks the entry up (read, then claimed from the dead one), hangs, and is killed.
    for (let delivery = 1; delivery <= maxDeliveries; delivery += 1) {
      const child = scene.spawnConsumer(`doomed-${delivery}`, { behaviour: 'hang', options });
      await waitFor(async () => (await scene.probe.recordCount('started')) === delivery, {
        message: `delivery ${delivery} to start`,
      });
      expect(await scene.probe.pendingRows()).toEqual([[id, `doomed-${delivery}`, expect.any(Number), delivery]]);
      await child.kill('SIGKILL');
    }

    // The next consumer claims it once more, past the limit, and dead-letters it without running the handler.
    scene.spawnConsumer('doomed-4', { behaviour: 'hang', options });
    await waitFor(async () => (await scene.probe.deadLetterCount()) > 0, {
      message: 'the dead-letter entry',
    });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the original acked' });

    const dead = await scene.probe.deadLetters();
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
    expect(Date.parse(fields[DEAD_LETTER_FIELDS.time]!)).toBeGreaterThan(Date.now() - 60_000);
    // The handler ran maxDeliveries times, never more.
    expect((await scene.probe.records('started')).map((r) => [r.consumer, r.deliveries])).toEqual([
      ['doomed-1', 1],
      ['doomed-2', 2],
      ['doomed-3', 3],
    ]);
    expect(await scene.probe.handledCount()).toBe(0);
  });
});
