import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient, RedisStreamsContext } from '../../src/index.js';
import { redisUrl } from '../support/redis.js';
import { fastOptions, startMicroservice, testClient } from '../support/apps.js';
import { adminClient, pendingCount, pendingRows, uniqueName } from '../support/redis.js';
import { deferred, waitFor } from '../support/wait.js';

const PROBE = 'PROBE';

interface Seen {
  data: unknown;
  stream: string;
  id: string;
  group: string;
  consumer: string;
  deliveries: number;
  fields: Record<string, string | Buffer>;
}

class Probe {
  readonly seen: Seen[] = [];
  onSeen: (seen: Seen) => void = () => undefined;
  record(data: unknown, ctx: RedisStreamsContext): void {
    const seen = {
      data,
      stream: ctx.getStream(),
      id: ctx.getMessageId(),
      group: ctx.getGroup(),
      consumer: ctx.getConsumer(),
      deliveries: ctx.getDeliveryCount(),
      fields: ctx.getFields(),
    };
    this.seen.push(seen);
    this.onSeen(seen);
  }
}

describe('delivery through a consumer group', () => {
  let redis: Redis;
  let client: RedisStreamsClient;
  let apps: INestMicroservice[];
  let stream: string;
  let group: string;
  let probe: Probe;

  beforeEach(() => {
    redis = adminClient();
    client = testClient();
    apps = [];
    stream = uniqueName('orders');
    group = uniqueName('billing');
    probe = new Probe();
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await client.close();
    redis.disconnect();
  });

  async function start(controller: new (...args: never[]) => unknown, consumer = 'c1', extra = {}) {
    const { app, server } = await startMicroservice(
      [controller],
      fastOptions({ group, consumer, ...extra }),
      [{ provide: PROBE, useValue: probe }],
    );
    apps.push(app);
    return { app, server };
  }

  function recordingController() {
    @Controller()
    class RecordingController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${stream}`)
      handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.p.record(data, ctx);
      }
    }
    return RecordingController;
  }

  it('hands an entry added by plain XADD to the handler as its field map, with the context filled in', async () => {
    await start(recordingController(), 'consumer-a');
    const handled = deferred<Seen>();
    probe.onSeen = handled.resolve;
    const id = await redis.xadd(stream, '*', 'sku', 'A1', 'qty', '2', 'data', 'not-json');
    const seen = await handled.promise;
    expect(seen).toEqual({
      data: { sku: 'A1', qty: '2', data: 'not-json' },
      stream,
      id,
      group,
      consumer: 'consumer-a',
      deliveries: 1,
      fields: { sku: 'A1', qty: '2', data: 'not-json' },
    });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'ack' });
  });

  it('round-trips emitted payloads of every JSON shape and resolves emit with the entry id', async () => {
    await start(recordingController());
    const payloads: unknown[] = [{ order: { id: 7, note: null, lines: [{ sku: 'A', qty: 1 }] } }, 0, false, '', 'plain text', [1, null]];
    const ids: string[] = [];
    for (const payload of payloads) {
      ids.push(await lastValueFrom(client.emit<string>(`stream:${stream}`, payload)));
    }
    await waitFor(() => probe.seen.length === payloads.length, { message: 'all payloads handled' });
    expect(probe.seen.map((s) => s.data)).toEqual(payloads);
    expect(probe.seen.map((s) => s.id)).toEqual(ids);
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([id]) => id)).toEqual(ids);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acks' });
  });

  it('writes the emits of one turn together, in order, each resolving with its own entry id, and emits again afterwards', async () => {
    await lastValueFrom(client.emit<string>(`stream:${stream}`, { warm: true }));
    // Started in one turn: they share one socket write.
    const socket = client.unwrap<Redis>().stream;
    const sameTurn = Array.from({ length: 300 }, (_, i) => lastValueFrom(client.emit<string>(`stream:${stream}`, { i })));
    expect(socket.writableCorked).toBe(1);
    const ids = await Promise.all(sameTurn);
    expect(socket.writableCorked).toBe(0);
    const later = await lastValueFrom(client.emit<string>(`stream:${stream}`, { later: true }));
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([id]) => id)).toEqual([entries[0]![0], ...ids, later]);
    expect(entries.slice(1, -1).map(([, fields]) => JSON.parse(fields[3]!) as unknown)).toEqual(
      Array.from({ length: 300 }, (_, i) => ({ i })),
    );
  });

  it('leaves no pending entry after a resolving async handler', async () => {
    @Controller()
    class AsyncController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${stream}`)
      async handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        await new Promise((resolve) => setImmediate(resolve));
        this.p.record(data, ctx);
      }
    }
    await start(AsyncController);
    for (let i = 0; i < 20; i += 1) await lastValueFrom(client.emit(`stream:${stream}`, { i }));
    await waitFor(() => probe.seen.length === 20, { message: '20 handled' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'all acked' });
  });

  it('skips entries older than a new group by default, and reads them with startFrom beginning', async () => {
    const oldId = await redis.xadd(stream, '*', 'k', 'old');
    await start(recordingController(), 'c1');
    const handled = deferred<Seen>();
    probe.onSeen = handled.resolve;
    const newId = await redis.xadd(stream, '*', 'k', 'new');
    expect((await handled.promise).id).toBe(newId);
    expect(probe.seen.map((s) => s.id)).not.toContain(oldId);

    const otherGroup = uniqueName('replay');
    const replayProbe = new Probe();
    const { app } = await startMicroservice(
      [recordingController()],
      fastOptions({ group: otherGroup, consumer: 'r1', startFrom: 'beginning' }),
      [{ provide: PROBE, useValue: replayProbe }],
    );
    apps.push(app);
    await waitFor(() => replayProbe.seen.length === 2, { message: 'replay of both entries' });
    expect(replayProbe.seen.map((s) => s.id)).toEqual([oldId, newId]);
  });

  it('starts a new group at an explicit entry id', async () => {
    const first = await redis.xadd(stream, '*', 'n', '1');
    const second = await redis.xadd(stream, '*', 'n', '2');
    await start(recordingController(), 'c1', { startFrom: first });
    await waitFor(() => probe.seen.length === 1, { message: 'entry after the start id' });
    expect(probe.seen[0]!.id).toBe(second);
  });

  it('shares entries between the consumers of one group and gives every group all of them', async () => {
    const probes = [new Probe(), new Probe(), new Probe()];
    for (const [index, p] of probes.entries()) {
      const { app } = await startMicroservice([recordingController()], fastOptions({ group, consumer: `c${index}` }), [
        { provide: PROBE, useValue: p },
      ]);
      apps.push(app);
    }
    const otherGroup = uniqueName('audit');
    const auditProbe = new Probe();
    const { app } = await startMicroservice([recordingController()], fastOptions({ group: otherGroup, consumer: 'a1' }), [
      { provide: PROBE, useValue: auditProbe },
    ]);
    apps.push(app);
    const total = 300;
    const pipeline = redis.pipeline();
    for (let i = 0; i < total; i += 1) pipeline.xadd(stream, '*', 'i', String(i));
    await pipeline.exec();
    const handledIds = () => probes.flatMap((p) => p.seen.map((s) => s.id));
    await waitFor(() => handledIds().length >= total && auditProbe.seen.length >= total, { message: 'all entries in both groups' });
    expect(new Set(handledIds()).size).toBe(total);
    expect(handledIds()).toHaveLength(total);
    expect(new Set(auditProbe.seen.map((s) => s.id)).size).toBe(total);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'acks' });
    const rows = await pendingRows(redis, stream, otherGroup);
    expect(rows.length).toBeLessThanOrEqual(total);
  });

  it('uses a pluggable serializer on the client and deserializer on the server', async () => {
    const wrapping = new RedisStreamsClient({
      connection: redisUrl(),
      serializer: { serialize: (packet: { pattern: unknown; data: unknown }) => ({ ...packet, data: { wrapped: packet.data } }) },
    });
    try {
      await start(recordingController(), 'c1', {
        deserializer: {
          deserialize: (value: { pattern: string; data: { wrapped?: unknown } }) => ({
            pattern: value.pattern,
            data: { unwrapped: value.data.wrapped ?? value.data },
          }),
        },
      });
      const id = await lastValueFrom(wrapping.emit<string>(`stream:${stream}`, { sku: 'A1' }));
      await waitFor(() => probe.seen.length === 1, { message: 'custom codec delivery' });
      expect(probe.seen[0]).toMatchObject({ id, data: { unwrapped: { sku: 'A1' } } });
      expect(probe.seen[0]!.fields.data).toBe(JSON.stringify({ wrapped: { sku: 'A1' } }));
    } finally {
      await wrapping.close();
    }
  });
});
