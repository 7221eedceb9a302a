import type { Redis } from 'ioredis';
import {
  runConsumer,
  type RunningConsumer,
} from '../../fixtures/consumer-app.js';
import {
  adminClient,
  pendingCount,
  redisUrl,
  uniqueName,
} from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { BlackholeProxy } from './blackhole-proxy.js';
import { clientsNamed, consumerConfig, records } from './children.js';

describe('a blocking read that never returns (half-open connection)', () => {
  let redis: Redis;
  let proxy: BlackholeProxy;
  let consumer: RunningConsumer | undefined;

  beforeEach(() => {
    redis = adminClient();
    proxy = new BlackholeProxy(Number(new URL(redisUrl()).port));
  });

  afterEach(async () => {
    await consumer?.close();
    consumer = undefined;
    await proxy.stop();
    redis.disconnect();
  });

  it('is abandoned by the watchdog; reading resumes on a new connection and the swallowed entry is reclaimed', async () => {
    const stream = uniqueName('hung');
    const group = uniqueName('g');
    const record = uniqueName('rec');
    const readerName = `nrs:${group}:c1:read`;
    const url = await proxy.start();
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    // Watchdog at 2 x blockMs + 1 s = 1.4 s.
    consumer = await runConsumer(
      consumerConfig({
        url,
        stream,
        group,
        record,
        consumer: 'c1',
        options: { blockMs: 200, claimIdleMs: 1_000 },
      }),
    );
    const done = async () =>
      (await records(redis, `${record}:done`)).map((r) => r.id);

    const first = (await redis.xadd(stream, '*', 'n', '1'))!;
    await waitFor(async () => (await done()).includes(first), {
      message: 'the first entry handled',
    });
    const [reader] = await clientsNamed(redis, readerName);
    await waitFor(
      async () =>
        (await clientsNamed(redis, readerName)).some(
          (c) => c.id === reader!.id && c.flags!.includes('b'),
        ),
      {
        message: 'the reader blocked',
      },
    );
    expect(proxy.blackhole((name) => name === readerName)).toBe(1);

    // Redis hands this one to the blocked read, whose reply never arrives.
    const swallowed = (await redis.xadd(stream, '*', 'n', '2'))!;
    // A new read connection replaces the dead one.
    await waitFor(
      async () =>
        (await clientsNamed(redis, readerName)).some(
          (c) => c.id !== reader!.id,
        ),
      {
        timeoutMs: 8_000,
        message: 'a new reader connection',
      },
    );
    const after = (await redis.xadd(stream, '*', 'n', '3'))!;
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
    expect(
      (await records(redis, `${record}:done`)).find((r) => r.id === swallowed)
        ?.deliveries,
    ).toBe(2);
    await waitFor(
      async () => (await pendingCount(redis, stream, group)) === 0,
      { message: 'nothing pending' },
    );
  });
});
