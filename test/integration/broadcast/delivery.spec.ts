import { NotSupportedError, type RedisStreamsServerOptions } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { BroadcastCalls, broadcastExtras } from '../../support/broadcast.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { streamsController, type StreamEntryHandler } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

describe('broadcast reads: delivery', () => {
  const scene = useScene('bc');

  /** Starts an app instance with one broadcast handler per stream; resolves with what it records. */
  async function instance(
    consumer: string,
    streams: readonly string[] = [scene.stream],
    extra: Record<string, unknown> = {},
    options: Partial<RedisStreamsServerOptions> = {},
    handle?: StreamEntryHandler,
  ): Promise<BroadcastCalls> {
    const calls = new BroadcastCalls();
    await scene.start(
      [streamsController(streams, handle ?? ((stream, data, ctx) => calls.add(stream, data, ctx)), () => broadcastExtras(extra))],
      fastOptions({ group: scene.group, consumer, ...options }),
    );
    return calls;
  }

  it('hands every entry to each of three instances, in order, without creating a consumer group', async () => {
    const instances = await Promise.all(['a', 'b', 'c'].map((consumer) => instance(consumer)));
    const ids = await scene.produce.addMany(500);
    await waitFor(() => instances.every((calls) => calls.countOf(scene.stream) >= 500), { message: 'all 500 entries at each instance' });
    for (const calls of instances) expect(calls.idsOf(scene.stream)).toEqual(ids);
    expect(await scene.probe.groups()).toEqual([]);
    expect(await scene.probe.clientsNamed(`nrs:${scene.group}:a:read`)).toEqual([]);
    expect(await scene.probe.clientsNamed(`nrs:${scene.group}:a:broadcast`)).toHaveLength(1);
  });

  it('reads across ids …-9 and …-10 in order, one entry at a time', async () => {
    const calls = await instance('c1', [scene.stream], { startFrom: 'beginning', batchSize: 1 });
    const ids = Array.from({ length: 25 }, (_, i) => `1700000000000-${i + 1}`);
    ids.push('1700000000001-0', '1700000000010-0', '1700000000100-0');
    for (const id of ids) await scene.redis.xadd(scene.stream, id, 'n', id);
    await waitFor(() => calls.countOf(scene.stream) >= ids.length, { message: 'every entry handled' });
    expect(calls.idsOf(scene.stream)).toEqual(ids);
  });

  it("starts after the entries already there by default ('latest')", async () => {
    await scene.produce.addMany(5);
    const calls = await instance('c1');
    const [after] = await scene.produce.addMany(1, { from: 5 });
    await waitFor(() => calls.countOf(scene.stream) >= 1, { message: 'the new entry handled' });
    expect(calls.idsOf(scene.stream)).toEqual([after]);
  });

  it('starts from the beginning, or after a given id, and reads a stream that did not exist yet from its start', async () => {
    const before = await scene.produce.addMany(6);
    const fromStart = await instance('c1', [scene.stream], { startFrom: 'beginning' });
    const afterThird = await instance('c2', [scene.stream], { startFrom: before[2] });
    const missing = scene.name('missing');
    const onMissing = await instance('c3', [missing]);
    const later = await scene.produce.addMany(2, { from: 6 });
    const created = await scene.produce.with({ stream: missing }).addMany(3);
    await waitFor(() => fromStart.countOf(scene.stream) >= 8 && afterThird.countOf(scene.stream) >= 5 && onMissing.countOf(missing) >= 3, {
      message: 'each instance caught up',
    });
    expect(fromStart.idsOf(scene.stream)).toEqual([...before, ...later]);
    expect(afterThird.idsOf(scene.stream)).toEqual([...before.slice(3), ...later]);
    expect(onMissing.idsOf(missing)).toEqual(created);
  });

  it('gives the handler our payloads and foreign field maps, with a context that says broadcast', async () => {
    const calls = await instance('c1');
    const ours = await scene.produce.emit({ sku: 'A1', qty: 2 });
    const foreign = await scene.produce.add('sku', 'B2', 'data', 'not json');
    const binary = await scene.produce.add('raw', Buffer.from([0xff, 0x00, 0xfe]));
    await waitFor(() => calls.countOf(scene.stream) >= 3, { message: 'three entries handled' });
    const [first, second, third] = calls.calls;
    expect(first).toMatchObject({ id: ours, data: { sku: 'A1', qty: 2 } });
    expect(second).toMatchObject({ id: foreign, data: { sku: 'B2', data: 'not json' } });
    expect(third!.id).toBe(binary);
    expect((third!.data as { raw: Buffer }).raw).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
    const ctx = first!.ctx;
    expect(ctx.getStream()).toBe(scene.stream);
    expect(ctx.getPattern()).toBe(`stream:${scene.stream}`);
    expect(ctx.getGroup()).toBe('');
    expect(ctx.getConsumer()).toBe('c1');
    expect(ctx.getDeliveryCount()).toBe(1);
    expect(ctx.getMetadata()).toEqual({});
    await expect(ctx.ack()).resolves.toBeUndefined();
    await expect(ctx.retry()).rejects.toBeInstanceOf(NotSupportedError);
    await expect(ctx.deadLetter('no')).rejects.toThrow(/at most once per instance/);
  });

  it('logs a failing handler with the stream and entry id, never the payload, and moves on', async () => {
    const logger = new CapturingLogger();
    const calls = new BroadcastCalls();
    await scene.start(
      [
        streamsController(
          [scene.stream],
          (stream, data, ctx) => {
            calls.add(stream, data, ctx);
            if ((data as { n: string }).n === '1') throw new Error('handler refused it');
          },
          () => broadcastExtras(),
        ),
      ],
      fastOptions({ group: scene.group, consumer: 'c1' }),
      [],
      { logger },
    );
    const ids = await scene.produce.addMany(4, { fields: (i) => ['n', String(i), 'secret', 'payload-secret-value'] });
    await waitFor(() => calls.countOf(scene.stream) >= 4, { message: 'all four handled' });
    await waitFor(() => logger.matching('error', ids[1]!).length === 1, { message: 'the failure logged' });
    const [line] = logger.matching('error', ids[1]!);
    expect(line!.message).toContain(`Broadcast stream "${scene.stream}"`);
    expect(line!.message).toContain('handler failed on entry');
    expect(logger.all()).not.toContain('payload-secret-value');
    expect(calls.idsOf(scene.stream)).toEqual(ids);
    expect(await scene.probe.groups()).toEqual([]);
  });
});
