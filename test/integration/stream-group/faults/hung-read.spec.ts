import { BlackholeProxy } from '../../../support/proxies.js';
import { redisUrl } from '../../../support/redis.js';
import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('a blocking read that never returns (half-open connection)', () => {
  const scene = useScene('hung');

  it('is abandoned by the watchdog; reading resumes on a new connection and the swallowed entry is reclaimed', async () => {
    const { redis, probe } = scene;
    const proxy = new BlackholeProxy(Number(new URL(redisUrl()).port));
    scene.defer(() => proxy.stop());
    const readerName = `nrs:${scene.group}:c1:read`;
    const url = await proxy.start();
    await redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    // Watchdog at 2 x blockMs + 1 s = 1.4 s.
    await scene.runConsumer('c1', { url, options: { blockMs: 200, claimIdleMs: 1_000 } });
    const done = async () => (await probe.records('done')).map((r) => r.id);

    const first = await scene.produce.add('n', '1');
    await waitFor(async () => (await done()).includes(first), {
      message: 'the first entry handled',
    });
    const [reader] = await probe.clientsNamed(readerName);
    await waitFor(async () => (await probe.clientsNamed(readerName)).some((c) => c.id === reader!.id && c.flags!.includes('b')), {
      message: 'the reader blocked',
    });
    expect(proxy.blackhole((name) => name === readerName)).toBe(1);

    // Redis hands this one to the blocked read, whose reply never arrives.
    const swallowed = await scene.produce.add('n', '2');
    // A new read connection replaces the dead one.
    await waitFor(async () => (await probe.clientsNamed(readerName)).some((c) => c.id !== reader!.id), {
      timeoutMs: 8_000,
      message: 'a new reader connection',
    });
    const after = await scene.produce.add('n', '3');
    await waitFor(
      async () => {
        const ids = await done();
        return ids.includes(swallowed) && ids.includes(after);
      },
      {
        timeoutMs: 8_000,
        message: 'the swallowed and the later entry handled',
      },
    );
    expect((await done()).sort()).toEqual([first, swallowed, after].sort());
    // Redis delivered it to the dead read (first delivery), then it was claimed.
    expect((await probe.records('done')).find((r) => r.id === swallowed)?.deliveries).toBe(2);
    await waitFor(async () => (await probe.pendingCount()) === 0, { message: 'nothing pending' });
  });
});
