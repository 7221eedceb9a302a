import type { RedisStreamsServer, RedisStreamsServerOptions } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { BroadcastCalls, broadcastExtras } from '../../support/broadcast.js';
import { CapturingLogger } from '../../support/logs.js';
import { redisUrl, uniqueName } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { addToEach, streamsController, type StreamEntryHandler } from '../../support/stream-handlers.js';
import { deferred, waitFor } from '../../support/wait.js';

describe('broadcast reads: sharing, bounds and faults', () => {
  const scene = useScene('bcr');
  let calls: BroadcastCalls;
  let logger: CapturingLogger;

  beforeEach(() => {
    calls = new BroadcastCalls();
    logger = new CapturingLogger();
  });

  async function start(
    streams: readonly string[],
    extra: Record<string, unknown> = {},
    options: Partial<RedisStreamsServerOptions> = {},
    handle: StreamEntryHandler = (stream, data, ctx) => calls.add(stream, data, ctx),
  ): Promise<RedisStreamsServer> {
    const { server } = await scene.start(
      [streamsController(streams, handle, () => broadcastExtras(extra))],
      fastOptions({ group: scene.group, consumer: 'c1', ...options }),
      [],
      { logger },
    );
    return server;
  }

  const broadcastName = () => `nrs:${scene.group}:c1:broadcast`;

  /** Waits until the broadcast connection sits in a blocking XREAD; returns its client id. */
  async function blockedBroadcastRead(): Promise<string> {
    let id = '';
    await waitFor(
      async () => {
        const blocked = (await scene.probe.clientsNamed(broadcastName())).find((c) => c.flags?.includes('b') && c.cmd === 'xread');
        id = blocked?.id ?? '';
        return blocked !== undefined;
      },
      { message: 'the broadcast read to block in XREAD' },
    );
    return id;
  }

  it('never has more than concurrency entries read and unsettled per stream', async () => {
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    await start([scene.stream], { concurrency: 3, batchSize: 10 }, {}, async (stream, data, ctx) => {
      calls.add(stream, data, ctx);
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running -= 1;
    });
    const ids = await scene.produce.addMany(20);
    await waitFor(() => running === 3, { message: 'three handlers running' });
    // While all three run, nothing more is read: the connection blocks in no read of the stream.
    expect(calls.countOf(scene.stream)).toBe(3);
    gate.resolve();
    await waitFor(() => calls.countOf(scene.stream) === 20, { message: 'all twenty handled' });
    expect(maxRunning).toBe(3);
    expect(calls.idsOf(scene.stream)).toEqual(ids);
  });

  it('reads a stream deleted and created again with lower ids from its new start', async () => {
    await start([scene.stream], { startFrom: 'beginning' }, { streamWaitIntervalMs: 100 });
    const old = ['9999999999999-1', '9999999999999-2'];
    for (const id of old) await scene.redis.xadd(scene.stream, id, 'n', 'old');
    await waitFor(() => calls.countOf(scene.stream) === 2, { message: 'the old entries handled' });
    await blockedBroadcastRead();

    await scene.redis.del(scene.stream);
    const recreated = await scene.produce.addMany(3);
    await waitFor(() => calls.countOf(scene.stream) === 5, { message: 'the new stream handled' });
    expect(calls.idsOf(scene.stream)).toEqual([...old, ...recreated]);
    expect(logger.matching('warn', `Broadcast stream "${scene.stream}"`).some((l) => l.message.includes('created again'))).toBe(true);
  });

  it('waits for a stream that vanished and reads it from its start when it is created again', async () => {
    await start([scene.stream], { startFrom: 'beginning' }, { streamWaitIntervalMs: 100 });
    await scene.redis.xadd(scene.stream, '500-1', 'n', 'old');
    await waitFor(() => calls.countOf(scene.stream) === 1, { message: 'the old entry handled' });
    await scene.redis.del(scene.stream);
    await waitFor(() => logger.matching('warn', 'the key is gone').length === 1, { message: 'the deletion noticed' });
    for (const id of ['1-1', '1-2']) await scene.redis.xadd(scene.stream, id, 'n', 'new');
    await waitFor(() => calls.countOf(scene.stream) === 3, { message: 'the new stream handled' });
    expect(calls.idsOf(scene.stream)).toEqual(['500-1', '1-1', '1-2']);
  });

  it('reads several broadcast streams with one blocking XREAD on one connection, next to the group read', async () => {
    const keys = Array.from({ length: 5 }, (_, i) => `${scene.stream}-${i}`);
    const groupStream = `${scene.stream}-group`;
    const grouped: string[] = [];
    const GroupHandler = streamsController([groupStream], (_stream, _data, ctx) => {
      grouped.push(ctx.getMessageId());
    });
    const { server } = await scene.start(
      [
        streamsController(
          keys,
          (stream, data, ctx) => calls.add(stream, data, ctx),
          () => broadcastExtras(),
        ),
        GroupHandler,
      ],
      fastOptions({ group: scene.group, consumer: 'c1' }),
      [],
      { logger },
    );
    const readers = server.unwrap().readers;
    expect(readers.map((reader) => ({ mode: reader.mode, streams: reader.streams }))).toEqual([
      { mode: 'group', streams: [groupStream] },
      { mode: 'broadcast', streams: keys },
    ]);
    await blockedBroadcastRead();
    const [blocked] = (await scene.probe.clientsNamed(broadcastName())).filter((c) => c.cmd === 'xread');
    expect(blocked).toBeDefined();
    expect(await scene.probe.clientsNamed(broadcastName())).toHaveLength(1);
    expect(await scene.probe.clientsNamed(`nrs:${scene.group}:c1:read`)).toHaveLength(1);

    const ids = await addToEach(scene.redis, [...keys, groupStream], 4);
    await waitFor(() => keys.every((key) => calls.countOf(key) === 4) && grouped.length === 4, { message: 'every entry handled' });
    for (const key of keys) expect(calls.idsOf(key)).toEqual(ids.get(key));
    // The group's stream has the group; the broadcast streams none.
    expect(await scene.probe.with({ stream: groupStream }).groups()).toEqual([scene.group]);
    expect(await scene.probe.with({ stream: keys[0]! }).groups()).toEqual([]);
    await waitFor(async () => (await scene.probe.with({ stream: groupStream }).pendingCount()) === 0, { message: 'group entries acked' });
  });

  it('resumes from its position after CLIENT KILL of its connection, without handing an entry twice', async () => {
    const keys = [scene.stream, `${scene.stream}-2`];
    await start(keys);
    const first = await addToEach(scene.redis, keys, 3);
    await waitFor(() => keys.every((key) => calls.countOf(key) === 3), { message: 'the first entries handled' });
    const killed = await blockedBroadcastRead();
    expect(await scene.redis.client('KILL', 'ID', killed)).toBe(1);
    // Written while the connection is away or coming back.
    const second = await addToEach(scene.redis, keys, 3);
    await waitFor(async () => (await blockedBroadcastRead()) !== killed, { message: 'a new blocking read' });
    const third = await addToEach(scene.redis, keys, 2);
    await waitFor(() => keys.every((key) => calls.countOf(key) === 8), { message: 'every entry handled' });
    for (const key of keys) expect(calls.idsOf(key)).toEqual([...first.get(key)!, ...second.get(key)!, ...third.get(key)!]);
    expect(logger.matching('warn', 'dropped').length).toBeGreaterThan(0);
  });

  it('applies the keyPrefix once: prefixed keys in Redis, names as bound in the context', async () => {
    const keyPrefix = `${uniqueName('pre')}:`;
    const keys = [scene.stream, `${scene.stream}-2`];
    await start(keys, {}, { connection: `${redisUrl()}?keyPrefix=${encodeURIComponent(keyPrefix)}` });
    const ids = await addToEach(
      scene.redis,
      keys.map((key) => `${keyPrefix}${key}`),
      2,
    );
    await waitFor(() => keys.every((key) => calls.countOf(key) === 2), { message: 'entries of both prefixed streams handled' });
    for (const key of keys) expect(calls.idsOf(key)).toEqual(ids.get(`${keyPrefix}${key}`));
    expect(calls.calls.map((call) => call.ctx.getStream()).sort()).toEqual([...keys, ...keys].sort());
    expect(await scene.redis.exists(...keys)).toBe(0);
  });

  it('closes while a blocking read waits, promptly and with no error', async () => {
    const server = await start([scene.stream]);
    await blockedBroadcastRead();
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await scene.probe.clientsNamed(broadcastName())).toEqual([]);
    expect(logger.matching('error', '')).toEqual([]);
  });
});
