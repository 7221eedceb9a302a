import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ArgoEvent, RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const EVENTS = 'EVENTS';

describe('the argo-events envelope', () => {
  const scene = useScene('argo');

  function controller(extras: object = {}, failFirst = false) {
    @Controller()
    class Handler {
      constructor(@Inject(EVENTS) private readonly events: ArgoEvent[]) {}
      @EventPattern<string>(`stream:${scene.stream}`, extras)
      handle(@Payload() event: ArgoEvent, @Ctx() ctx: RedisStreamsContext) {
        this.events.push(event);
        if (failFirst && ctx.getDeliveryCount() === 1) throw new Error('first delivery fails');
      }
    }
    return Handler;
  }

  it('hands the handler the event argo-events dispatches for XADD FOO * key-1 val-1 key-2 val-2', async () => {
    const events: ArgoEvent[] = [];
    await scene.start([controller()], fastOptions({ group: scene.group, envelope: 'argo-events' }), [
      { provide: EVENTS, useValue: events },
    ]);
    const id = (await scene.redis.xadd(scene.stream, '*', 'key-1', 'val-1', 'key-2', 'val-2'))!;
    await waitFor(() => events.length === 1, { message: 'the event' });
    const event = events[0]!;
    expect(event).toEqual({
      context: {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) as unknown,
        source: scene.group,
        specversion: '1.0',
        type: 'redisStream',
        datacontenttype: 'application/json',
        subject: scene.stream,
        time: new Date(Number(id.split('-')[0])).toISOString(),
      },
      data: { stream: scene.stream, message_id: id, values: { 'key-1': 'val-1', 'key-2': 'val-2' } },
    });
    expect(Object.keys(event.context)).toEqual(['id', 'source', 'specversion', 'type', 'datacontenttype', 'subject', 'time']);
    expect(event.context.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await waitFor(async () => (await scene.redis.xpending(scene.stream, scene.group))[0] === 0, { message: 'acked' });
  });

  it('per handler, with its own source and subject; a redelivery keeps the event id', async () => {
    const events: ArgoEvent[] = [];
    const extras = { envelope: { format: 'argo-events', source: 'shop', subject: 'order-created' }, retry: { baseDelayMs: 10 } };
    await scene.start([controller(extras, true)], fastOptions({ group: scene.group }), [{ provide: EVENTS, useValue: events }]);
    const ours = await scene.produce.emit({ sku: 'A1' });
    await waitFor(() => events.length === 2, { message: 'the delivery and its retry' });
    const [first, again] = events as [ArgoEvent, ArgoEvent];
    expect(first.context).toMatchObject({ source: 'shop', subject: 'order-created' });
    expect(again.context.id).toBe(first.context.id);
    // Our own entries are shown as the fields they are, like anyone else's.
    expect(first.data.message_id).toBe(ours);
    expect(first.data.values['data']).toBe(JSON.stringify({ sku: 'A1' }));
  });

  it('on a broadcast handler too (the server option applies to every handler)', async () => {
    const events: ArgoEvent[] = [];
    const { server } = await scene.start([controller({ broadcast: true })], fastOptions({ group: scene.group, envelope: 'argo-events' }), [
      { provide: EVENTS, useValue: events },
    ]);
    expect(server.unwrap().readers.map((r) => r.mode)).toEqual(['broadcast']);
    const id = (await scene.redis.xadd(scene.stream, '*', 'key-1', 'val-1'))!;
    await waitFor(() => events.length === 1, { message: 'the event' });
    expect(events[0]).toMatchObject({
      context: { source: scene.group, subject: scene.stream },
      data: { message_id: id, values: { 'key-1': 'val-1' } },
    });
  });
});
