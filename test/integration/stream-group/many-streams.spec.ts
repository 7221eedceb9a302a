import type { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { RedisStreamsStatus, type RedisStreamsServer, type RedisStreamsServerOptions } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { addToEach, HandledEntries, pendingPerStream, streamsController, type StreamEntryHandler } from '../../support/stream-handlers.js';
import { deferred, waitFor } from '../../support/wait.js';

describe('many streams on few connections', () => {
  const scene = useScene('many');
  let handled: HandledEntries;
  let logger: CapturingLogger;

  beforeEach(() => {
    handled = new HandledEntries();
    logger = new CapturingLogger();
  });

  function streams(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `${scene.stream}-${i}`);
  }

  async function start(
    keys: readonly string[],
    handle: StreamEntryHandler = (stream, _data, ctx) => handled.add(stream, ctx.getMessageId()),
    options: Partial<RedisStreamsServerOptions> = {},
    extrasOf?: (stream: string) => Record<string, unknown> | undefined,
  ): Promise<RedisStreamsServer> {
    const { server } = await scene.start(
      [streamsController(keys, handle, extrasOf)],
      fastOptions({ group: scene.group, consumer: 'c1', ...options }),
      [],
      {
        logger,
      },
    );
    return server;
  }

  /** The server's connections, by role, from CLIENT LIST. */
  async function connections(): Promise<{ read: number; commands: number }> {
    const read = await scene.probe.clientsNamed(`nrs:${scene.group}:c1:read`);
    const commands = await scene.probe.clientsNamed(`nrs:${scene.group}:c1:commands`);
    return { read: read.length, commands: commands.length };
  }

  async function expectAllHandledAndAcked(ids: Map<string, string[]>, timeoutMs = 10_000): Promise<void> {
    const keys = [...ids.keys()];
    const expected = [...ids.values()].reduce((sum, list) => sum + list.length, 0);
    await waitFor(() => handled.count === expected, { timeoutMs, message: `${expected} entries handled` });
    for (const [stream, list] of ids) expect([...handled.of(stream)].sort()).toEqual([...list].sort());
    await waitFor(async () => (await pendingPerStream(scene.redis, keys, scene.group)).every((n) => n === 0), {
      timeoutMs,
      message: 'every entry acknowledged',
    });
  }

  /** Waits until the shared read connection sits in XREADGROUP BLOCK. */
  async function blockedReader(): Promise<void> {
    await waitFor(
      async () =>
        (await scene.probe.clientsNamed(`nrs:${scene.group}:c1:read`)).some(
          (client) => client.flags?.includes('b') && client.cmd === 'xreadgroup',
        ),
      { message: 'the shared read to block' },
    );
  }

  it.each([[100], [1_000]])(
    '%i streams share one blocking connection: two connections in all, every entry handled and acknowledged',
    async (count) => {
      const keys = streams(count);
      const server = await start(keys);
      expect(await connections()).toEqual({ read: 1, commands: 1 });
      const { readers } = server.unwrap();
      expect(readers).toHaveLength(1);
      expect(readers[0]!.streams).toEqual(keys);

      const ids = await addToEach(scene.redis, keys, count === 100 ? 5 : 1);
      await expectAllHandledAndAcked(ids);
      expect(await connections()).toEqual({ read: 1, commands: 1 });
    },
    20_000,
  );

  it('reads streams apart whose read settings differ, one connection per group of streams that agree', async () => {
    const keys = streams(4);
    const slow = new Set([keys[2]!, keys[3]!]);
    const server = await start(keys, undefined, {}, (stream) => (slow.has(stream) ? { blockMs: 300 } : undefined));
    expect(
      server
        .unwrap()
        .readers.map((reader) => reader.streams)
        .sort((a, b) => a[0]!.localeCompare(b[0]!)),
    ).toEqual([keys.slice(0, 2), keys.slice(2)]);
    expect(await connections()).toEqual({ read: 2, commands: 1 });
    await expectAllHandledAndAcked(await addToEach(scene.redis, keys, 3));
  });

  it('a stream whose slots are all busy neither over-reads nor holds the others up', async () => {
    const keys = streams(5);
    const busy = keys[0]!;
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let maxPending = 0;
    const samplePending = async (): Promise<void> => {
      const [pending] = await pendingPerStream(scene.redis, [busy], scene.group);
      maxPending = Math.max(maxPending, pending!);
    };
    // One read group: batchSize 5 everywhere, and the busy stream's concurrency is 5 too.
    const server = await start(
      keys,
      async (stream, _data, ctx) => {
        if (stream === busy) {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await gate.promise;
          running -= 1;
        }
        handled.add(stream, ctx.getMessageId());
      },
      { batchSize: 5 },
      (stream) => (stream === busy ? { concurrency: 5 } : undefined),
    );
    expect(server.unwrap().readers).toHaveLength(1);

    const busyIds = (await addToEach(scene.redis, [busy], 30)).get(busy)!;
    await waitFor(
      async () => {
        await samplePending();
        return running === 5;
      },
      { message: 'every slot of the busy stream taken' },
    );
    // While it is full, the others flow, round after round.
    const others = keys.slice(1);
    for (let round = 0; round < 3; round += 1) {
      const ids = await addToEach(scene.redis, others, 10);
      await waitFor(
        async () => {
          await samplePending();
          return [...ids].every(([stream, list]) => list.every((id) => handled.of(stream).has(id)));
        },
        { message: `round ${round} of the other streams handled` },
      );
    }
    await waitFor(
      async () => {
        await samplePending();
        return (await pendingPerStream(scene.redis, others, scene.group)).every((n) => n === 0);
      },
      { message: 'the other streams acknowledged' },
    );
    const [busyPending] = await pendingPerStream(scene.redis, [busy], scene.group);
    expect(busyPending).toBe(5);

    gate.resolve();
    await waitFor(
      async () => {
        await samplePending();
        return handled.of(busy).size === busyIds.length;
      },
      { message: 'the busy stream drained' },
    );
    await waitFor(async () => (await pendingPerStream(scene.redis, [busy], scene.group))[0] === 0, {
      message: 'the busy stream acknowledged',
    });
    expect(maxRunning).toBe(5);
    expect(maxPending).toBeLessThanOrEqual(5);
  });

  it.each([
    ['deleted', (r: Redis, s: string) => r.del(s)],
    ['its group destroyed', (r: Redis, s: string, g: string) => r.xgroup('DESTROY', s, g)],
  ])('one stream %s while the shared read blocks: its group is recreated, the others never stop', async (_what, destroy) => {
    const keys = streams(5);
    const [victim] = keys;
    await start(keys);
    await expectAllHandledAndAcked(await addToEach(scene.redis, keys, 2));
    await blockedReader();

    await destroy(scene.redis, victim!, scene.group);
    const others = await addToEach(scene.redis, keys.slice(1), 3);
    // XINFO GROUPS fails until the stream exists again.
    const hasGroup = () =>
      scene.probe
        .with({ stream: victim! })
        .groups()
        .then(
          (groups) => groups.includes(scene.group),
          () => false,
        );
    await waitFor(hasGroup, { message: 'the group recreated' });
    const after = await addToEach(scene.redis, keys, 2);
    await waitFor(() => [...others, ...after].every(([stream, list]) => list.every((id) => handled.of(stream).has(id))), {
      message: 'the entries written since handled',
    });
    await waitFor(async () => (await pendingPerStream(scene.redis, keys, scene.group)).every((n) => n === 0), {
      message: 'nothing pending',
    });
    expect(await connections()).toEqual({ read: 1, commands: 1 });
    expect(logger.matching('warn', `Stream "${victim}"`).some((line) => line.message.includes('NOGROUP'))).toBe(true);
    expect(logger.matching('error', '')).toEqual([]);
    await blockedReader();
  });

  it('one stream replaced by another type stops alone, with one error; the others read on', async () => {
    const keys = streams(5);
    const [victim] = keys;
    const server = await start(keys);
    await expectAllHandledAndAcked(await addToEach(scene.redis, keys, 1));
    await blockedReader();
    const disconnected = firstValueFrom(server.status.pipe(filter((s) => s === RedisStreamsStatus.DISCONNECTED)));

    await scene.redis.del(victim!);
    await scene.redis.set(victim!, 'now a string');
    await disconnected;
    const others = await addToEach(scene.redis, keys.slice(1), 3);
    await waitFor(() => [...others].every(([stream, list]) => list.every((id) => handled.of(stream).has(id))), {
      message: 'the other streams handled',
    });
    expect(logger.matching('error', victim!)).toHaveLength(1);
    expect(logger.matching('error', victim!)[0]!.message).toContain('WRONGTYPE');
    expect(logger.matching('error', keys[1]!)).toEqual([]);
    expect(logger.matching('warn', 'WRONGTYPE')).toEqual([]);
  });
});
