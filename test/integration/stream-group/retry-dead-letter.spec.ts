import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { APP_FILTER } from '@nestjs/core';
import { DEAD_LETTER_FIELDS, RedisStreamsExceptionFilter, UnrecoverableError, type RedisStreamsContext } from '../../../src/index.js';
import { CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON } from '../../../src/constants.js';
import { fastOptions, type ValueProvider } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const BEHAVIOUR = 'BEHAVIOUR';

interface Call {
  id: string;
  consumer: string;
  deliveries: number;
  at: number;
  fields: Record<string, string | Buffer>;
}

/** What the handler does with a call; throwing fails it. */
type Behaviour = (call: Call, ctx: RedisStreamsContext) => Promise<void> | void;

class Recorder {
  readonly calls: Call[] = [];
  constructor(readonly behaviour: Behaviour) {}
}

describe('retries and the dead-letter stream', () => {
  const scene = useScene('pay');

  function controller() {
    @Controller()
    class Handler {
      constructor(@Inject(BEHAVIOUR) private readonly recorder: Recorder) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      async handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
        const call = {
          id: ctx.getMessageId(),
          consumer: ctx.getConsumer(),
          deliveries: ctx.getDeliveryCount(),
          at: Date.now(),
          fields: ctx.getFields(),
        };
        this.recorder.calls.push(call);
        await this.recorder.behaviour(call, ctx);
      }
    }
    return Handler;
  }

  async function start(recorder: Recorder, consumer: string, extra = {}, providers: ValueProvider[] = []) {
    await scene.start(
      [controller()],
      fastOptions({
        group: scene.group,
        consumer,
        claimIdleMs: 1_000,
        claimIntervalMs: 20,
        retry: { baseDelayMs: 100, jitter: 0 },
        ...extra,
      }),
      [{ provide: BEHAVIOUR, useValue: recorder }, ...providers],
    );
  }

  const deadLetters = () => scene.probe.deadLetters();

  it('retries a handler that fails twice with growing gaps, each retry on exactly one of several consumers', async () => {
    const recorder = new Recorder((call) => {
      if (call.deliveries < 3) throw new Error(`not yet (${call.deliveries})`);
    });
    for (const consumer of ['c1', 'c2', 'c3']) await start(recorder, consumer);
    const id = await scene.produce.add('n', '1');
    await waitFor(async () => recorder.calls.length === 3 && (await scene.probe.pendingCount()) === 0, {
      message: 'three deliveries then ack',
    });
    expect(recorder.calls.map((c) => [c.id, c.deliveries])).toEqual([
      [id, 1],
      [id, 2],
      [id, 3],
    ]);
    const [first, second, third] = recorder.calls as [Call, Call, Call];
    const gaps = [second.at - first.at, third.at - second.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[1]).toBeGreaterThanOrEqual(190);
    expect(await deadLetters()).toEqual([]);
  });

  it('keeps within concurrency while failed entries are claimed back alongside new reads', async () => {
    let running = 0;
    let maxRunning = 0;
    const recorder = new Recorder(async (call) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        if (call.deliveries === 1) throw new Error('first try fails');
      } finally {
        running -= 1;
      }
    });
    await start(recorder, 'c1', { concurrency: 2, claimIdleMs: 300, retry: { baseDelayMs: 20, jitter: 0 } });
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await scene.produce.add('i', String(i)));
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { timeoutMs: 15_000, message: 'all retried and acked' });
    expect(maxRunning).toBe(2);
    for (const id of ids) {
      expect(recorder.calls.filter((c) => c.id === id).map((c) => c.deliveries)).toEqual([1, 2]);
    }
  });

  it('dead-letters an always-failing entry once, with its origin, while other entries keep flowing', async () => {
    const recorder = new Recorder((call) => {
      if (call.fields.poison === '1') throw new Error('cannot charge');
    });
    await start(recorder, 'c1', { maxDeliveries: 3 });
    const poison = await scene.produce.add('poison', '1', 'sku', 'X');
    const good: string[] = [];
    for (let i = 0; i < 5; i += 1) good.push(await scene.produce.add('i', String(i)));
    await waitFor(() => good.every((id) => recorder.calls.some((c) => c.id === id)), { message: 'good entries' });
    await waitFor(async () => (await deadLetters()).length === 1 && (await scene.probe.pendingCount()) === 0, {
      message: 'poison entry dead-lettered',
    });
    const firstPoisonCall = recorder.calls.findIndex((c) => c.id === poison);
    const lastGoodCall = Math.max(...good.map((id) => recorder.calls.findIndex((c) => c.id === id)));
    const lastPoisonCall = recorder.calls.map((c) => c.id).lastIndexOf(poison);
    expect(lastGoodCall).toBeLessThan(lastPoisonCall);
    expect(firstPoisonCall).toBe(0);
    expect(recorder.calls.filter((c) => c.id === poison).map((c) => c.deliveries)).toEqual([1, 2, 3]);
    const [dead] = await deadLetters();
    expect(dead!.fields).toMatchObject({
      poison: '1',
      sku: 'X',
      [DEAD_LETTER_FIELDS.stream]: scene.stream,
      [DEAD_LETTER_FIELDS.id]: poison,
      [DEAD_LETTER_FIELDS.group]: scene.group,
      [DEAD_LETTER_FIELDS.consumer]: 'c1',
      [DEAD_LETTER_FIELDS.deliveries]: '3',
    });
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toEqual(expect.any(String));
    expect(Date.parse(dead!.fields[DEAD_LETTER_FIELDS.time]!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("keeps a plain Error's message and name in the dead letter with no filter registered", async () => {
    const recorder = new Recorder(() => {
      throw new RangeError('qty out of range');
    });
    await start(recorder, 'c1', { maxDeliveries: 1 });
    await scene.produce.add('n', '1');
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'dead letter' });
    const [dead] = await deadLetters();
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toBe('RangeError: qty out of range');
  });

  it('keeps the original error in the dead letter when RedisStreamsExceptionFilter is registered', async () => {
    const recorder = new Recorder(() => {
      throw new TypeError('card number missing');
    });
    await start(recorder, 'c1', { maxDeliveries: 1 }, [{ provide: APP_FILTER, useValue: new RedisStreamsExceptionFilter() }]);
    await scene.produce.add('n', '1');
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'dead letter' });
    const [dead] = await deadLetters();
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toBe('TypeError: card number missing');
  });

  it('dead-letters an entry that claims our format but does not decode, without calling the handler', async () => {
    const recorder = new Recorder(() => undefined);
    await start(recorder, 'c1');
    const id = await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, 'data', '{not json');
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'undecodable dead-lettered' });
    const [dead] = await deadLetters();
    expect(dead!.fields[DEAD_LETTER_FIELDS.id]).toBe(id);
    expect(dead!.fields[DEAD_LETTER_FIELDS.deliveries]).toBe('1');
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toContain('undecodable');
    expect(dead!.fields.data).toBe('{not json');
    expect(recorder.calls).toEqual([]);
    expect(await scene.probe.pendingCount()).toBe(0);
  });

  it('dead-letters an entry whose deserializer throws, and keeps handling the others', async () => {
    const recorder = new Recorder(() => undefined);
    const deserializer = {
      deserialize: (packet: { pattern: string; data: unknown }) => {
        if (packet.data === 'poison') throw new Error('cannot map poison');
        return packet;
      },
    };
    await start(recorder, 'c1', { deserializer });
    const poison = await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, 'data', '"poison"');
    const good = await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, 'data', '"fine"');
    await waitFor(() => recorder.calls.length === 1, { message: 'good entry handled' });
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'poison dead-lettered' });
    const [dead] = await deadLetters();
    expect(dead!.fields[DEAD_LETTER_FIELDS.id]).toBe(poison);
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toContain('deserializer failed (Error: cannot map poison)');
    expect(recorder.calls.map((c) => c.id)).toEqual([good]);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'both settled' });
  });

  it('dead-letters at once when the handler throws UnrecoverableError', async () => {
    const recorder = new Recorder(() => {
      throw new UnrecoverableError('sku does not exist');
    });
    await start(recorder, 'c1');
    await scene.produce.add('sku', 'nope');
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'unrecoverable dead-lettered' });
    const [dead] = await deadLetters();
    expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toContain('sku does not exist');
    expect(dead!.fields[DEAD_LETTER_FIELDS.deliveries]).toBe('1');
    expect(recorder.calls).toHaveLength(1);
    expect(await scene.probe.pendingCount()).toBe(0);
  });

  it('lets the handler ack now, retry after a delay, or dead-letter with a reason', async () => {
    const recorder = new Recorder(async (call, ctx) => {
      const action = call.fields.action;
      if (action === 'ack-then-throw') {
        await ctx.ack();
        throw new Error('too late to matter');
      }
      if (action === 'retry' && call.deliveries === 1) {
        await ctx.retry(50);
        return;
      }
      if (action === 'dead') await ctx.deadLetter('customer closed the account');
    });
    await start(recorder, 'c1');
    const acked = await scene.produce.add('action', 'ack-then-throw');
    const retried = await scene.produce.add('action', 'retry');
    const dead = await scene.produce.add('action', 'dead');
    await waitFor(async () => (await scene.probe.pendingCount()) === 0 && recorder.calls.filter((c) => c.id === retried).length === 2, {
      message: 'all three settled',
    });
    expect(recorder.calls.filter((c) => c.id === acked)).toHaveLength(1);
    const retries = recorder.calls.filter((c) => c.id === retried);
    expect(retries.map((c) => c.deliveries)).toEqual([1, 2]);
    expect(retries[1]!.at - retries[0]!.at).toBeGreaterThanOrEqual(45);
    const deadLettered = await deadLetters();
    expect(deadLettered).toHaveLength(1);
    expect(deadLettered[0]!.fields[DEAD_LETTER_FIELDS.id]).toBe(dead);
    expect(deadLettered[0]!.fields[DEAD_LETTER_FIELDS.error]).toBe('customer closed the account');
  });

  it('cleans an entry deleted while pending from the pending list and never hands it over empty', async () => {
    const recorder = new Recorder((call) => {
      throw new Error(`fail ${call.id}`);
    });
    await start(recorder, 'c1', { retry: { baseDelayMs: 300, jitter: 0 } });
    const id = await scene.produce.add('n', '1');
    await waitFor(() => recorder.calls.length === 1, { message: 'first delivery' });
    await scene.redis.xdel(scene.stream, id);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'deleted entry cleaned' });
    expect(recorder.calls).toHaveLength(1);
    expect(await deadLetters()).toEqual([]);
  });

  it('cleans a deleted entry left on its own pending list by a previous life of the consumer', async () => {
    const { redis, stream, group } = scene;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const gone = await scene.produce.add('n', 'gone');
    const kept = await scene.produce.add('n', 'kept');
    await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xdel(stream, gone);
    const recorder = new Recorder(() => undefined);
    await start(recorder, 'c1', { claimIdleMs: 60_000 });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'pending list empty' });
    expect(recorder.calls.map((c) => c.id)).toEqual([kept]);
    expect(recorder.calls[0]!.fields).toEqual({ n: 'kept' });
  });

  it('deletes idle consumers that own nothing, never one with pending entries', async () => {
    const { redis, stream, group } = scene;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    await scene.produce.add('n', '1');
    await redis.xreadgroup('GROUP', group, 'ghost-with-pending', 'COUNT', 1, 'STREAMS', stream, '>');
    await redis.xgroup('CREATECONSUMER', stream, group, 'ghost-idle');
    const consumers = () => scene.probe.consumers();
    expect(await consumers()).toEqual(expect.arrayContaining(['ghost-idle', 'ghost-with-pending']));
    const recorder = new Recorder(() => undefined);
    await start(recorder, 'c1', { claimIdleMs: 60_000, idleConsumerCleanupMs: 200 });
    await waitFor(async () => !(await consumers()).includes('ghost-idle'), { message: 'idle consumer deleted' });
    expect(await consumers()).toContain('ghost-with-pending');
    expect((await scene.probe.pendingRows()).map((row) => row[1])).toEqual(['ghost-with-pending']);
  });
});
