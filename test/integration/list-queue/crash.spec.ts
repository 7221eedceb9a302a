import { keysOf, pushAll } from '../../support/list-queue.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('list queues: consumers that die', () => {
  const scene = useScene('jobs');

  it("recovers a SIGKILLed consumer's processing list once its liveness key expires, and another consumer handles the entries", async () => {
    const options = { concurrency: 5, claimIdleMs: 1_000, claimIntervalMs: 50 };
    const doomed = scene.spawnConsumer('doomed', { source: 'list', behaviour: 'hang', options });
    await doomed.ready;
    const values = ['a', 'b', 'c', 'd', 'e'];
    await pushAll(scene.redis, scene.stream, values);
    const theirs = keysOf(scene.stream, 'doomed');
    await waitFor(async () => (await scene.redis.llen(theirs.processing)) === 5, {
      message: "five entries in the doomed consumer's processing list",
    });
    await scene.runConsumer('survivor', { source: 'list', behaviour: 'ok', options });
    const aliveForMs = await scene.redis.pttl(theirs.alive);
    expect(aliveForMs).toBeGreaterThan(0);
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    // Only what the doomed consumer started so far: nobody took its entries while its key lived.
    expect(await scene.probe.recordCount('started')).toBe(5);
    await waitFor(async () => (await scene.probe.recordCount('done')) === 5, {
      message: 'the five entries handled by the survivor',
      timeoutMs: 10_000,
    });
    const done = await scene.probe.records('done');
    expect(done.map((record) => record.id).sort()).toEqual(values);
    expect(done.every((record) => record.consumer === 'survivor' && record.deliveries === 2)).toBe(true);
    // Not before the doomed consumer's liveness key had expired.
    const started = await scene.probe.records('started');
    expect(started.filter((record) => record.consumer === 'survivor')).toHaveLength(5);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(aliveForMs - 50);
    expect(await scene.redis.exists(theirs.processing)).toBe(0);
    expect(await scene.redis.sismember(theirs.registry, 'doomed')).toBe(0);
    await waitFor(async () => (await scene.redis.llen(keysOf(scene.stream, 'survivor').processing)) === 0, {
      message: "the survivor's processing list empty",
    });
    expect(await scene.redis.llen(scene.stream)).toBe(0);
  });

  it('a consumer restarted under its name takes its own unfinished entries first, before newer ones', async () => {
    // Liveness long enough that nobody else would recover them: the restart does.
    const options = { concurrency: 3, claimIdleMs: 60_000, claimIntervalMs: 50 };
    const first = scene.spawnConsumer('worker-1', { source: 'list', behaviour: 'hang', options });
    await first.ready;
    await pushAll(scene.redis, scene.stream, ['old-1', 'old-2', 'old-3', 'new-1', 'new-2']);
    const keys = keysOf(scene.stream, 'worker-1');
    await waitFor(async () => (await scene.redis.llen(keys.processing)) === 3, { message: 'three entries held' });
    // Their handlers running (and recorded as started), so that the records after them are the restart's.
    await waitFor(async () => (await scene.probe.recordCount('started')) === 3, { message: 'three handlers started' });
    await first.kill('SIGKILL');
    await scene.runConsumer('worker-1', { source: 'list', behaviour: 'ok', options: { ...options, concurrency: 1 } });
    await waitFor(async () => (await scene.probe.recordCount('done')) === 5, { message: 'all five handled after the restart' });
    const started = (await scene.probe.records('started')).slice(3);
    expect(started.map((record) => `${record.id}:${record.deliveries}`)).toEqual(['old-1:2', 'old-2:2', 'old-3:2', 'new-1:1', 'new-2:1']);
  });
});
