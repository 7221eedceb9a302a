import type { Redis } from 'ioredis';
import { RedisStreamsStatus } from '../../../../src/index.js';
import type { RunningConsumer } from '../../../fixtures/consumer-app.js';
import type { ConsumerSpec } from '../../../support/children.js';
import { useScene } from '../../../support/scene.js';
import { waitFor } from '../../../support/wait.js';

describe('the reader recovers', () => {
  let readerName: string;
  const scene = useScene('heal');

  beforeEach(() => {
    readerName = `nrs:${scene.group}:c1:read`;
  });

  async function start(extra: Partial<ConsumerSpec> = {}): Promise<RunningConsumer> {
    return scene.runConsumer('c1', extra);
  }

  /** Waits until the reader's connection sits in XREADGROUP BLOCK; returns its client id. */
  async function blockedReader(): Promise<string> {
    let id = '';
    await waitFor(
      async () => {
        const readers = await scene.probe.clientsNamed(readerName);
        const blocked = readers.find((client) => client.flags?.includes('b') && client.cmd === 'xreadgroup');
        id = blocked?.id ?? '';
        return blocked !== undefined;
      },
      { message: 'the reader to block in XREADGROUP' },
    );
    return id;
  }

  /**
   * Waits for a connection named `name` other than the one killed before
   * (`previous`, '' for none), kills it with CLIENT KILL and returns its id.
   */
  async function killConnection(name: string, previous: string, what: string): Promise<string> {
    let id: string | undefined;
    await waitFor(
      async () => {
        id = (await scene.probe.clientsNamed(name)).find((client) => client.id !== previous)?.id;
        return id !== undefined;
      },
      { message: what },
    );
    expect(await scene.redis.client('KILL', 'ID', id!)).toBe(1);
    return id!;
  }

  async function handledIds(): Promise<string[]> {
    return (await scene.probe.records('done')).map((r) => r.id);
  }

  async function expectHandled(ids: string[], timeoutMs = 5_000): Promise<void> {
    await waitFor(
      async () => {
        const done = await handledIds();
        return ids.every((id) => done.includes(id));
      },
      {
        timeoutMs,
        message: `entries ${ids.join(', ')} handled`,
      },
    );
  }

  it.each([
    ['the stream is deleted', (r: Redis, s: string) => r.del(s)],
    ['the group is destroyed', (r: Redis, s: string, g: string) => r.xgroup('DESTROY', s, g)],
  ])('when %s while it is blocked: the group is recreated and new entries are handled', async (_what, destroy) => {
    await start({ options: { blockMs: 2_000 } });
    const before = await scene.produce.add('n', 'before');
    await expectHandled([before]);
    await blockedReader();

    await destroy(scene.redis, scene.stream, scene.group);
    // Written at once, possibly before the group exists again: it must not be skipped.
    const right = await scene.produce.add('n', 'right-after');
    await waitFor(async () => (await scene.probe.groups()).includes(scene.group), {
      message: 'the group recreated',
    });
    const later = await scene.produce.add('n', 'later');
    await expectHandled([before, right, later]);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });

    // One loop, one connection: each entry handled once, and the reader blocks again.
    expect((await handledIds()).sort()).toEqual([before, right, later].sort());
    expect(await scene.probe.clientsNamed(readerName)).toHaveLength(1);
    await blockedReader();
  });

  it('after CLIENT KILL of its connection, at once and on a single new connection', async () => {
    // A long block: only a prompt reaction to the dropped connection, not the
    // hung-read watchdog (2 x blockMs + 1 s), can resume reading quickly.
    const blockMs = 10_000;
    const consumer = await start({ options: { blockMs } });
    const statuses: string[] = [];
    const subscription = consumer.server.status.subscribe((status) => statuses.push(status));
    try {
      for (let round = 1; round <= 2; round += 1) {
        const killedId = await blockedReader();
        expect(await scene.redis.client('KILL', 'ID', killedId)).toBe(1);
        const id = await scene.produce.add('round', String(round));
        await expectHandled([id], 2_000);
        const readers = await scene.probe.clientsNamed(readerName);
        expect(readers).toHaveLength(1);
        expect(readers[0]!.id).not.toBe(killedId);
      }
      // Reads that lost their connection leave no listener behind.
      const reader = consumer.server.unwrap().readers.find((r) => r.streams.includes(scene.stream))!.connection;
      expect(reader.listenerCount('close')).toBeLessThan(5);
      expect(statuses).toContain(RedisStreamsStatus.RECONNECTING);
      expect(statuses.at(-1)).toBe(RedisStreamsStatus.CONNECTED);
      await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
      expect(await handledIds()).toHaveLength(2);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('after CLIENT KILL of its connection, again and again while every slot is busy: every entry handled and acked', async () => {
    // Handlers slower than the writes below, so each kill lands while reads and acks are under way.
    await start({ behaviour: 'slow', slowMs: 5, options: { concurrency: 2, batchSize: 2 } });
    const ids: string[] = [];
    let killed = '';
    for (let round = 0; round < 3; round += 1) {
      for (let n = 0; n < 40; n += 1) ids.push(await scene.produce.add('round', String(round), 'n', String(n)));
      killed = await killConnection(readerName, killed, 'the reader connection (back)');
    }
    await expectHandled(ids);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
    expect(new Set(await handledIds())).toEqual(new Set(ids));
    expect(await scene.probe.deadLetterCount()).toBe(0);
  });

  it('after CLIENT KILL of its command connection, while entries flow: acks and claims carry on', async () => {
    await start({
      behaviour: 'flaky',
      failRate: 0.2,
      options: { claimIdleMs: 300, retry: { baseDelayMs: 10, maxDelayMs: 50 } },
    });
    const produced: string[] = [];
    let killed = '';
    for (let round = 0; round < 3; round += 1) {
      for (let n = 0; n < 50; n += 1) produced.push(await scene.produce.add('round', String(round), 'n', String(n)));
      killed = await killConnection(`nrs:${scene.group}:c1:commands`, killed, 'the command connection (back)');
    }
    await waitFor(async () => (await scene.probe.handledCount()) === produced.length, {
      message: 'every entry handled',
    });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
    expect(await scene.probe.deadLetterCount()).toBe(0);
  });
});
