import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { emit } from '../../support/produce.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

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
  const scene = useScene('orders');
  let probe: Probe;

  beforeEach(() => {
    probe = new Probe();
  });

  function start(controller: new (...args: never[]) => unknown, consumer = 'c1', extra = {}) {
    return scene.start([controller], fastOptions({ group: scene.group, consumer, ...extra }), [{ provide: PROBE, useValue: probe }]);
  }

  function recordingController() {
    @Controller()
    class RecordingController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${scene.stream}`)
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
    const id = await scene.produce.add('sku', 'A1', 'qty', '2', 'data', 'not-json');
    const seen = await handled.promise;
    expect(seen).toEqual({
      data: { sku: 'A1', qty: '2', data: 'not-json' },
      stream: scene.stream,
      id,
      group: scene.group,
      consumer: 'consumer-a',
      deliveries: 1,
      fields: { sku: 'A1', qty: '2', data: 'not-json' },
    });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'ack' });
  });

  it('round-trips emitted payloads of every JSON shape and resolves emit with the entry id', async () => {
    await start(recordingController());
    const payloads: unknown[] = [{ order: { id: 7, note: null, lines: [{ sku: 'A', qty: 1 }] } }, 0, false, '', 'plain text', [1, null]];
    const ids: string[] = [];
    for (const payload of payloads) {
      ids.push(await scene.produce.emit(payload));
    }
    await waitFor(() => probe.seen.length === payloads.length, { message: 'all payloads handled' });
    expect(probe.seen.map((s) => s.data)).toEqual(payloads);
    expect(probe.seen.map((s) => s.id)).toEqual(ids);
    const entries = await scene.probe.entries();
    expect(entries.map(({ id }) => id)).toEqual(ids);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acks' });
  });

  it('writes the emits of one turn together, in order, each resolving with its own entry id, and emits again afterwards', async () => {
    const { client, stream } = scene;
    await emit(client, stream, { warm: true });
    // Started in one turn: they share one socket write.
    const socket = client.unwrap<Redis>().stream;
    const sameTurn = Array.from({ length: 300 }, (_, i) => emit(client, stream, { i }));
    expect(socket.writableCorked).toBe(1);
    const ids = await Promise.all(sameTurn);
    expect(socket.writableCorked).toBe(0);
    const later = await emit(client, stream, { later: true });
    const entries = await scene.redis.xrange(stream, '-', '+');
    expect(entries.map(([id]) => id)).toEqual([entries[0]![0], ...ids, later]);
    expect(entries.slice(1, -1).map(([, fields]) => JSON.parse(fields[3]!) as unknown)).toEqual(
      Array.from({ length: 300 }, (_, i) => ({ i })),
    );
  });

  it('leaves no pending entry after a resolving async handler', async () => {
    @Controller()
    class AsyncController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      async handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        await new Promise((resolve) => setImmediate(resolve));
        this.p.record(data, ctx);
      }
    }
    await start(AsyncController);
    for (let i = 0; i < 20; i += 1) await scene.produce.emit({ i });
    await waitFor(() => probe.seen.length === 20, { message: '20 handled' });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'all acked' });
  });

  it('skips entries older than a new group by default, and reads them with startFrom beginning', async () => {
    const oldId = await scene.produce.add('k', 'old');
    await start(recordingController(), 'c1');
    const handled = deferred<Seen>();
    probe.onSeen = handled.resolve;
    const newId = await scene.produce.add('k', 'new');
    expect((await handled.promise).id).toBe(newId);
    expect(probe.seen.map((s) => s.id)).not.toContain(oldId);

    const otherGroup = scene.name('replay');
    const replayProbe = new Probe();
    await scene.start([recordingController()], fastOptions({ group: otherGroup, consumer: 'r1', startFrom: 'beginning' }), [
      { provide: PROBE, useValue: replayProbe },
    ]);
    await waitFor(() => replayProbe.seen.length === 2, { message: 'replay of both entries' });
    expect(replayProbe.seen.map((s) => s.id)).toEqual([oldId, newId]);
  });

  it('starts a new group at an explicit entry id', async () => {
    const first = await scene.produce.add('n', '1');
    const second = await scene.produce.add('n', '2');
    await start(recordingController(), 'c1', { startFrom: first });
    await waitFor(() => probe.seen.length === 1, { message: 'entry after the start id' });
    expect(probe.seen[0]!.id).toBe(second);
  });

  it('shares entries between the consumers of one group and gives every group all of them', async () => {
    const probes = [new Probe(), new Probe(), new Probe()];
    for (const [index, p] of probes.entries()) {
      await scene.start([recordingController()], fastOptions({ group: scene.group, consumer: `c${index}` }), [
        { provide: PROBE, useValue: p },
      ]);
    }
    const otherGroup = scene.name('audit');
    const auditProbe = new Probe();
    await scene.start([recordingController()], fastOptions({ group: otherGroup, consumer: 'a1' }), [
      { provide: PROBE, useValue: auditProbe },
    ]);
    const total = 300;
    await scene.produce.addMany(total, { fields: (i) => ['i', String(i)] });
    const handledIds = () => probes.flatMap((p) => p.seen.map((s) => s.id));
    await waitFor(() => handledIds().length >= total && auditProbe.seen.length >= total, { message: 'all entries in both groups' });
    expect(new Set(handledIds()).size).toBe(total);
    expect(handledIds()).toHaveLength(total);
    expect(new Set(auditProbe.seen.map((s) => s.id)).size).toBe(total);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acks' });
    const rows = await scene.probe.with({ group: otherGroup }).pendingRows();
    expect(rows.length).toBeLessThanOrEqual(total);
  });

  it('uses a pluggable serializer on the client and deserializer on the server', async () => {
    const wrapping = scene.newClient({
      serializer: { serialize: (packet: { pattern: unknown; data: unknown }) => ({ ...packet, data: { wrapped: packet.data } }) },
    });
    await start(recordingController(), 'c1', {
      deserializer: {
        deserialize: (value: { pattern: string; data: { wrapped?: unknown } }) => ({
          pattern: value.pattern,
          data: { unwrapped: value.data.wrapped ?? value.data },
        }),
      },
    });
    const id = await emit(wrapping, scene.stream, { sku: 'A1' });
    await waitFor(() => probe.seen.length === 1, { message: 'custom codec delivery' });
    expect(probe.seen[0]).toMatchObject({ id, data: { unwrapped: { sku: 'A1' } } });
    expect(probe.seen[0]!.fields.data).toBe(JSON.stringify({ wrapped: { sku: 'A1' } }));
  });
});
