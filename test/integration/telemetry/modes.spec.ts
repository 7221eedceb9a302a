import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { fastOptions } from '../../support/apps.js';
import { listController } from '../../support/list-queue.js';
import { totalOf, useOtelSdk } from '../../support/otel.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

describe('telemetry: list queues, broadcast reads, request-reply', () => {
  const sdk = useOtelSdk();
  const scene = useScene('otel-m');
  const tracer = trace.getTracer('test');

  it('traces a list entry from its send span, and a failed one through its retry', async () => {
    const handler = listController(scene.stream, (data) => {
      tracer.startActiveSpan('job', (span) => span.end());
      if (data === 'fails-once' && sdk.spansNamed(`process ${scene.stream}`).length === 0) throw new Error('not yet');
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1', retry: { baseDelayMs: 20, jitter: 0 } }));
    await lastValueFrom(scene.client.emit(`list:${scene.stream}`, 'fails-once'));
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 2, { message: 'two deliveries' });
    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    const [first, second] = sdk.spansNamed(`process ${scene.stream}`);
    const jobs = sdk.spansNamed('job');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes['messaging.message.id']).toBeUndefined();
    for (const span of [first, second]) {
      expect(span?.kind).toBe(SpanKind.CONSUMER);
      expect(span?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(span?.attributes).toMatchObject({ 'messaging.destination.name': scene.stream, 'messaging.consumer.group.name': scene.group });
      expect(span?.attributes['messaging.message.id']).toBeUndefined();
    }
    expect(first?.status.code).toBe(SpanStatusCode.ERROR);
    expect(first?.attributes['error.type']).toBe('Error');
    expect(first?.events.map((event) => event.name)).toEqual(['retry']);
    expect(second?.attributes['nrs.delivery.count']).toBe(2);
    expect(second?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(jobs.map((job) => job.parentSpanContext?.spanId).sort()).toEqual(
      [first?.spanContext().spanId, second?.spanContext().spanId].sort(),
    );
    await waitFor(
      async () =>
        (await sdk.collect()).length > 0 &&
        totalOf(await sdk.collect(), 'nrs.settled.messages', { 'nrs.outcome': 'ack', 'messaging.destination.name': scene.stream }) === 1,
      {
        message: 'the ack counted',
      },
    );
    const collected = await sdk.collect();
    expect(totalOf(collected, 'nrs.settled.messages', { 'nrs.outcome': 'retry', 'messaging.destination.name': scene.stream })).toBe(1);
    // List entries have no id, so no age.
    expect(totalOf(collected, 'nrs.message.age', { 'messaging.destination.name': scene.stream })).toBe(0);
  });

  it('traces a broadcast read from its send span, without a group', async () => {
    const handler = streamsController(
      [scene.stream],
      () => undefined,
      () => ({ broadcast: true }),
    );
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    const id = await lastValueFrom(scene.client.emit<string>(`stream:${scene.stream}`, { price: 1 }));
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the process span' });
    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    expect(processed?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(processed?.attributes['messaging.message.id']).toBe(id);
    expect(processed?.attributes['messaging.consumer.group.name']).toBeUndefined();
    const collected = await sdk.collect();
    expect(totalOf(collected, 'messaging.process.duration', { 'messaging.destination.name': scene.stream })).toBe(1);
    // A broadcast read settles nothing.
    expect(totalOf(collected, 'nrs.settled.messages', { 'messaging.destination.name': scene.stream })).toBe(0);
  });

  it('traces a request from the caller’s span through send and process to the handler’s span', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Quote {
      @MessagePattern(pattern)
      quote(@Payload() sku: string): Promise<{ sku: string }> {
        return tracer.startActiveSpan('price lookup', (span) => {
          span.end();
          return Promise.resolve({ sku });
        });
      }
    }
    await scene.start([Quote], fastOptions({ group: scene.group, consumer: 'c1' }));
    const client = scene.newClient();
    await client.connect();
    // Which span is active whenever a reply read (XREAD) goes out, on any connection of this process.
    const replyReads: Array<string | undefined> = [];
    const sendCommand = Redis.prototype.sendCommand;
    Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
      if (args[0].name.toLowerCase() === 'xread') replyReads.push((trace.getActiveSpan() as { name?: string } | undefined)?.name);
      return sendCommand.apply(this, args);
    };
    scene.defer(() => {
      Redis.prototype.sendCommand = sendCommand;
    });
    // The first send() opens the reply listener, from inside the caller's span.
    const reply = await tracer.startActiveSpan('GET /quote', async (span) => {
      try {
        return await lastValueFrom(client.send<{ sku: string }>(pattern, 'A1'));
      } finally {
        span.end();
      }
    });
    expect(reply).toEqual({ sku: 'A1' });
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the process span' });
    const [caller] = sdk.spansNamed('GET /quote');
    const [send] = sdk.spansNamed(`send ${scene.stream}`);
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    const [lookup] = sdk.spansNamed('price lookup');
    expect(send?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
    expect(processed?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(lookup?.parentSpanContext?.spanId).toBe(processed?.spanContext().spanId);
    expect(processed?.attributes['messaging.consumer.group.name']).toBe(scene.group);
    const collected = await sdk.collect();
    expect(totalOf(collected, 'nrs.settled.messages', { 'nrs.outcome': 'ack', 'messaging.destination.name': scene.stream })).toBe(1);
    // The reply listener read before and after the reply, never inside the caller's context.
    await waitFor(() => replyReads.length >= 2, { message: 'the reply listener reading again' });
    expect(replyReads.every((name) => name === undefined)).toBe(true);
  });
});
