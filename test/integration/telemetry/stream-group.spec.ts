import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamsContext, RedisStreamsServer, RedisStreamsServerClients } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { pointsOf, totalOf, useOtelSdk } from '../../support/otel.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

class PaymentError extends Error {
  override readonly name = 'PaymentError';
}

/** The commands issued on the server's connections, with the span active when each was issued. */
function recordCommands(server: RedisStreamsServer, names: readonly string[]): Array<{ name: string; span: Span | undefined }> {
  const seen: Array<{ name: string; span: Span | undefined }> = [];
  const { commands, readers } = server.unwrap<RedisStreamsServerClients>();
  for (const connection of [commands as Redis, ...readers.map((reader) => reader.connection)]) {
    const original = connection.sendCommand.bind(connection);
    connection.sendCommand = (command, stream) => {
      const name = command.name.toLowerCase();
      if (names.includes(name)) seen.push({ name, span: trace.getActiveSpan() });
      return original(command, stream);
    };
  }
  return seen;
}

describe('telemetry: consumer group', () => {
  const sdk = useOtelSdk();
  const scene = useScene('otel');
  const tracer = trace.getTracer('test');

  it('traces emit → process → the handler, and measures the delivery and its ack', async () => {
    const seen: Array<{ metadata: Record<string, unknown>; active: string | undefined }> = [];
    const handler = streamsController([scene.stream], (_stream, _data, ctx: RedisStreamsContext) => {
      seen.push({ metadata: ctx.getMetadata(), active: (trace.getActiveSpan() as unknown as { name?: string } | undefined)?.name });
      tracer.startActiveSpan('charge', (span) => span.end());
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    const id = await lastValueFrom(scene.client.emit<string>(`stream:${scene.stream}`, { order: 1 }));
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the process span' });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the ack' });

    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    const [charge] = sdk.spansNamed('charge');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': scene.stream,
      'messaging.operation.name': 'send',
      'messaging.message.id': id,
    });
    expect(processed?.kind).toBe(SpanKind.CONSUMER);
    expect(processed?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': scene.stream,
      'messaging.consumer.group.name': scene.group,
      'messaging.client.id': 'c1',
      'messaging.operation.name': 'process',
      'messaging.message.id': id,
      'nrs.delivery.count': 1,
    });
    expect(processed?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(processed?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(processed?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(charge?.parentSpanContext?.spanId).toBe(processed?.spanContext().spanId);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.active).toBe(`process ${scene.stream}`);
    expect(seen[0]?.metadata.traceparent).toBe(`00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`);

    const collected = await sdk.collect();
    const destination = { 'messaging.destination.name': scene.stream };
    const consumer = { ...destination, 'messaging.consumer.group.name': scene.group };
    expect(totalOf(collected, 'messaging.client.sent.messages', { ...destination, 'messaging.operation.name': 'send' })).toBe(1);
    expect(totalOf(collected, 'messaging.client.consumed.messages', consumer)).toBe(1);
    expect(totalOf(collected, 'messaging.process.duration', { ...consumer, 'messaging.operation.name': 'process' })).toBe(1);
    expect(pointsOf(collected, 'messaging.process.duration', consumer)[0]?.attributes['error.type']).toBeUndefined();
    expect(totalOf(collected, 'nrs.settled.messages', { ...consumer, 'nrs.outcome': 'ack' })).toBe(1);
    expect(totalOf(collected, 'nrs.delivery.count', consumer)).toBe(1);
    expect(totalOf(collected, 'nrs.message.age', consumer)).toBe(1);
    expect(collected.find((m) => m.descriptor.name === 'messaging.process.duration')?.descriptor.unit).toBe('s');
  });

  it('records a retry and then a dead letter as events, outcomes and error types', async () => {
    const handler = streamsController([scene.stream], () => {
      throw new PaymentError('card declined');
    });
    await scene.start(
      [handler],
      fastOptions({ group: scene.group, consumer: 'c1', maxDeliveries: 2, retry: { baseDelayMs: 20, jitter: 0 } }),
    );
    await lastValueFrom(scene.client.emit(`stream:${scene.stream}`, { order: 2 }));
    await waitFor(async () => (await scene.probe.deadLetters()).length === 1 && sdk.spansNamed(`process ${scene.stream}`).length === 2, {
      message: 'two deliveries, then the dead letter',
    });

    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    const [first, second] = sdk.spansNamed(`process ${scene.stream}`);
    for (const span of [first, second]) {
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['error.type']).toBe('PaymentError');
      expect(span?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    }
    expect(first?.attributes['nrs.delivery.count']).toBe(1);
    expect(second?.attributes['nrs.delivery.count']).toBe(2);
    expect(first?.events.map((event) => event.name)).toEqual(['retry']);
    expect(first?.events[0]?.attributes?.['nrs.retry.delay_ms']).toBe(20);
    expect(second?.events.map((event) => event.name)).toEqual(['dead_letter']);
    expect(second?.events[0]?.attributes?.['nrs.dead_letter.stream']).toBe(`{${scene.stream}}:dlq`);

    const collected = await sdk.collect();
    const consumer = { 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group };
    expect(totalOf(collected, 'nrs.settled.messages', { ...consumer, 'nrs.outcome': 'retry' })).toBe(1);
    expect(totalOf(collected, 'nrs.settled.messages', { ...consumer, 'nrs.outcome': 'dead_letter' })).toBe(1);
    expect(totalOf(collected, 'nrs.settled.messages', { ...consumer, 'nrs.outcome': 'ack' })).toBe(0);
    expect(totalOf(collected, 'messaging.process.duration', { ...consumer, 'error.type': 'PaymentError' })).toBe(2);
    expect(totalOf(collected, 'messaging.client.consumed.messages', consumer)).toBe(2);
  });

  it('counts a delivery reclaimed from a dead consumer, with a reclaimed event', async () => {
    // A consumer that read the entry and died: it stays pending on "gone".
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const id = await scene.produce.add('n', '1');
    await scene.redis.xreadgroup('GROUP', scene.group, 'gone', 'COUNT', 1, 'STREAMS', scene.stream, '>');
    const handler = streamsController([scene.stream], () => undefined);
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1', claimIdleMs: 200 }));
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the reclaimed delivery' });
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    expect(processed?.attributes['messaging.message.id']).toBe(id);
    expect(processed?.attributes['nrs.delivery.count']).toBe(2);
    expect(processed?.events.map((event) => [event.name, event.attributes?.['nrs.reclaimed.from']])).toEqual([['reclaimed', 'gone']]);
    // A foreign entry carries no trace context: its span is a root.
    expect(processed?.parentSpanContext).toBeUndefined();
    const collected = await sdk.collect();
    expect(totalOf(collected, 'nrs.reclaimed.messages', { 'messaging.destination.name': scene.stream })).toBe(1);
  });

  it('ends the span of a delivery whose lease was lost with a lease_lost event and outcome', async () => {
    let heard: AbortSignal | undefined;
    const handler = streamsController([scene.stream], (_stream, _data, ctx: RedisStreamsContext) => {
      heard = ctx.signal;
      return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1', claimIdleMs: 600, claimIntervalMs: 50 }));
    const id = await scene.produce.add('n', '1');
    await waitFor(() => heard !== undefined, { message: 'the handler running' });
    await scene.redis.xclaim(scene.stream, scene.group, 'intruder', 0, id, 'JUSTID');
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the span ended on the lost lease' });
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    expect(processed?.events.map((event) => event.name)).toEqual(['lease_lost']);
    const collected = await sdk.collect();
    expect(totalOf(collected, 'nrs.settled.messages', { 'messaging.destination.name': scene.stream, 'nrs.outcome': 'lease_lost' })).toBe(1);
    expect(totalOf(collected, 'nrs.settled.messages', { 'messaging.destination.name': scene.stream, 'nrs.outcome': 'ack' })).toBe(0);
  });

  it('marks a failed send with its error type, in the span and the sent counter', async () => {
    await scene.redis.set(scene.stream, 'not a stream');
    await expect(lastValueFrom(scene.client.emit(`stream:${scene.stream}`, { order: 9 }))).rejects.toThrow();
    await waitFor(() => sdk.spansNamed(`send ${scene.stream}`).length === 1, { message: 'the send span' });
    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('RedisCommandError');
    expect(send?.attributes['messaging.message.id']).toBeUndefined();
    const collected = await sdk.collect();
    const of = { 'messaging.destination.name': scene.stream };
    expect(totalOf(collected, 'messaging.client.sent.messages', { ...of, 'error.type': 'RedisCommandError' })).toBe(1);
    expect(totalOf(collected, 'messaging.client.sent.messages', of)).toBe(1);
  });

  it('adds up the counts of two servers of one process that share a group', async () => {
    const handled: string[] = [];
    const handler = streamsController([scene.stream], (_stream, _data, ctx) => {
      handled.push(ctx.getConsumer());
    });
    for (const consumer of ['c1', 'c2'])
      await scene.start([handler], fastOptions({ group: scene.group, consumer, concurrency: 2, batchSize: 2 }));
    for (let n = 0; n < 20; n += 1) await lastValueFrom(scene.client.emit(`stream:${scene.stream}`, { n }));
    await waitFor(async () => handled.length === 20 && (await scene.probe.pendingCount()) === 0, { message: 'all handled and acked' });
    const of = { 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group };
    const collected = await sdk.collect();
    expect(totalOf(collected, 'messaging.client.consumed.messages', of)).toBe(20);
    expect(totalOf(collected, 'nrs.settled.messages', { ...of, 'nrs.outcome': 'ack' })).toBe(20);
  });

  it('counts an entry deleted while pending as deleted, without a delivery', async () => {
    // c1 read the entry, then it was deleted before c1 settled it.
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const id = await scene.produce.add('n', '1');
    await scene.redis.xreadgroup('GROUP', scene.group, 'c1', 'COUNT', 1, 'STREAMS', scene.stream, '>');
    await scene.redis.xdel(scene.stream, id);
    const handler = streamsController([scene.stream], () => undefined);
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the deleted entry acknowledged' });
    const of = { 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group };
    await waitFor(async () => totalOf(await sdk.collect(), 'nrs.settled.messages', { ...of, 'nrs.outcome': 'deleted' }) === 1, {
      message: 'the deleted entry counted',
    });
    expect(totalOf(await sdk.collect(), 'messaging.client.consumed.messages', of)).toBe(0);
    expect(sdk.spansNamed(`process ${scene.stream}`).map((span) => span.name)).toEqual([]);
  });

  it('keeps the order of emits made before the client connected (while the telemetry loads)', async () => {
    const client = scene.newClient();
    const sent = Array.from({ length: 50 }, (_, n) => lastValueFrom(client.emit<string>(`stream:${scene.stream}`, { n })));
    const ids = await Promise.all(sent);
    const entries = await scene.redis.xrange(scene.stream, '-', '+');
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('data') + 1]!) as unknown)).toEqual(
      Array.from({ length: 50 }, (_, n) => ({ n })),
    );
    expect(sdk.spansNamed(`send ${scene.stream}`)).toHaveLength(50);
  });

  it('never issues reads, acks or claims inside a handler’s trace context', async () => {
    let inSpan = 0;
    const handler = streamsController([scene.stream], async (_stream, data, ctx) => {
      if (trace.getActiveSpan() !== undefined) inSpan += 1;
      await tracer.startActiveSpan('work', async (span) => {
        // Half the handlers acknowledge by hand, from inside their own span.
        if ((data as { n: number }).n % 2 === 0) await ctx.ack();
        else if ((data as { n: number }).n === 1) await ctx.retry(10);
        span.end();
      });
    });
    const { server } = await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    const seen = recordCommands(server, ['xack', 'xreadgroup', 'xclaim', 'xpending', 'xautoclaim']);
    for (let n = 0; n < 20; n += 1) await lastValueFrom(scene.client.emit(`stream:${scene.stream}`, { n }));
    await waitFor(async () => (await scene.probe.pendingCount()) === 0 && inSpan >= 21, { message: 'every entry handled and acked' });
    expect(seen.filter((command) => command.name === 'xack').length).toBeGreaterThan(0);
    expect(seen.filter((command) => command.name === 'xreadgroup').length).toBeGreaterThan(0);
    expect(seen.filter((command) => command.span !== undefined).map((command) => command.name)).toEqual([]);
  });

  it('adds no metadata and no spans with telemetry off', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const handler = streamsController([scene.stream], (_stream, _data, ctx) => {
      seen.push(ctx.getMetadata());
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1', telemetry: false }));
    const client = scene.newClient({ telemetry: false });
    await lastValueFrom(client.emit(`stream:${scene.stream}`, { order: 3 }));
    await waitFor(() => seen.length === 1, { message: 'the delivery' });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the ack' });
    expect(seen[0]).toEqual({});
    const [[, fields] = ['', []]] = await scene.redis.xrange(scene.stream, '-', '+');
    expect(fields).not.toContain('metadata');
    expect(sdk.spans().filter((span) => span.name.endsWith(scene.stream))).toEqual([]);
    const collected = await sdk.collect();
    expect(totalOf(collected, 'messaging.client.consumed.messages', { 'messaging.destination.name': scene.stream })).toBe(0);
    expect(totalOf(collected, 'messaging.client.sent.messages', { 'messaging.destination.name': scene.stream })).toBe(0);
  });
});
