import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { filter, firstValueFrom } from 'rxjs';
import {
  DEAD_LETTER_FIELDS,
  InvalidOptionsError,
  RedisStreamsServer,
  RedisStreamsStatus,
  type RedisStreamsContext,
  type RedisStreamsServerOptions,
} from '../../../src/index.js';
import { CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, METADATA_FIELD } from '../../../src/constants.js';
import { fastOptions } from '../../support/apps.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

const HANDLE = 'HANDLE';

/** What the handler under test does with each delivery. */
type Handle = (data: unknown, ctx: RedisStreamsContext) => Promise<void> | void;

describe('repairs: what a careful user found', () => {
  const scene = useScene('rep');
  let logger: CapturingLogger;

  beforeEach(() => {
    logger = new CapturingLogger();
  });

  function controller(extras: Record<string, unknown> = {}) {
    @Controller()
    class Handler {
      constructor(@Inject(HANDLE) private readonly handle: Handle) {}
      @EventPattern<string>(`stream:${scene.stream}`, extras)
      onEntry(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        return this.handle(data, ctx);
      }
    }
    return Handler;
  }

  async function start(
    handle: Handle,
    options: Partial<RedisStreamsServerOptions> = {},
    controllers: Type<unknown>[] = [controller()],
  ): Promise<RedisStreamsServer> {
    const { server } = await scene.start(
      controllers,
      fastOptions({ group: scene.group, consumer: 'c1', ...options }),
      [{ provide: HANDLE, useValue: handle }],
      { logger },
    );
    return server;
  }

  describe('payload text stays out of logs and dead letters (item 4)', () => {
    it('says which field is not JSON and how long it is, without quoting it', async () => {
      await start(() => undefined);
      const secret = `{"card":"4111 1111 SECRET-${scene.name('pan')}"`;
      await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, secret);
      await waitFor(async () => (await scene.probe.deadLetterCount()) === 1, { message: 'dead letter' });
      const [dead] = await scene.probe.deadLetters();
      expect(dead!.fields[DEAD_LETTER_FIELDS.error]).toBe(`undecodable: "data" is not valid JSON (${secret.length} bytes)`);
      expect(dead!.fields[DATA_FIELD]).toBe(secret);
      await waitFor(() => logger.matching('error', 'dead-letter').length === 1, { message: 'the log line' });
      expect(logger.all()).not.toContain('SECRET');
    });
  });

  describe('options of the wrong type (item 8)', () => {
    it.each([
      [{ retry: 'fast' }, 'retry'],
      [{ deadLetter: 'orders-dlq' }, 'deadLetter'],
      [{ deserializer: 'json' }, 'deserializer'],
      [{ deserializer: {} }, 'deserializer'],
      [{ concurency: 5 }, 'concurency'],
      [{ host: 'localhost' }, 'host'],
    ])('fails listen() for %j naming the option', async (bad, option) => {
      const failing = start(() => undefined, bad as Partial<RedisStreamsServerOptions>);
      await expect(failing).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(failing).rejects.toMatchObject({ option });
    });

    it('fails listen() for a wrong @EventPattern extra, naming the pattern', async () => {
      const failing = start(() => undefined, {}, [controller({ deadLetter: 'orders-dlq' })]);
      await expect(failing).rejects.toThrow(`@EventPattern("stream:${scene.stream}") extras: deadLetter`);
      await expect(failing).rejects.toThrow('must be an object');
    });
  });

  describe('two handlers on one stream (item 9)', () => {
    function pair(first: Record<string, unknown>, second: Record<string, unknown>) {
      @Controller()
      class First {
        constructor(@Inject(HANDLE) private readonly handle: Handle) {}
        @EventPattern<string>(`stream:${scene.stream}`, first)
        one(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
          return this.handle({ handler: 'first', data }, ctx);
        }
      }
      @Controller()
      class Second {
        constructor(@Inject(HANDLE) private readonly handle: Handle) {}
        @EventPattern<string>(`stream:${scene.stream}`, second)
        two(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
          return this.handle({ handler: 'second', data }, ctx);
        }
      }
      return [First, Second];
    }

    it('refuses conflicting extras, naming the stream and both values', async () => {
      const failing = start(() => undefined, {}, pair({ concurrency: 1 }, { concurrency: 5 }));
      await expect(failing).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(failing).rejects.toThrow(`stream "${scene.stream}"`);
      await expect(failing).rejects.toThrow('(1 and 5)');
      const nested = start(() => undefined, {}, pair({ retry: { baseDelayMs: 10 } }, { retry: { baseDelayMs: 20 } }));
      await expect(nested).rejects.toThrow('retry.baseDelayMs');
    });

    it('runs both handlers for each entry when their extras agree, then acks once', async () => {
      const calls: string[] = [];
      await start(
        (data) => {
          calls.push((data as { handler: string }).handler);
        },
        {},
        pair({ maxDeliveries: 3 }, { concurrency: 4 }),
      );
      await scene.produce.add('n', '1');
      await waitFor(async () => calls.length === 2 && (await scene.probe.pendingCount()) === 0, { message: 'both ran' });
      expect(calls.sort()).toEqual(['first', 'second']);
    });
  });

  describe('ctx.retry() (item 10)', () => {
    it('without a delay, uses the backoff delay the entry would have had', async () => {
      const idleAfterRetry = deferred<number>();
      const deliveries: number[] = [];
      await start(
        async (_data, ctx) => {
          deliveries.push(ctx.getDeliveryCount());
          if (ctx.getDeliveryCount() > 1) return;
          await ctx.retry();
          const [row] = await scene.probe.pendingRows();
          idleAfterRetry.resolve(row![2]);
        },
        { claimIdleMs: 2_000, retry: { baseDelayMs: 150, jitter: 0 } },
      );
      await scene.produce.add('n', '1');
      // Claimable after the backoff delay (150 ms), not after claimIdleMs.
      expect(await idleAfterRetry.promise).toBeGreaterThanOrEqual(2_000 - 150);
      await waitFor(async () => deliveries.length === 2 && (await scene.probe.pendingCount()) === 0, {
        timeoutMs: 1_500,
        message: 'redelivered after the backoff delay',
      });
      expect(logger.all()).not.toContain('Invalid IDLE');
    });

    it.each([[Number.NaN], [-1], ['soon']])('rejects %p at once and leaves the entry to the handler', async (bad) => {
      const rejection = deferred<unknown>();
      await start(async (_data, ctx) => {
        await ctx.retry(bad as number).then(
          () => rejection.resolve('resolved'),
          (error: unknown) => rejection.resolve(error),
        );
      });
      await scene.produce.add('n', '1');
      const error = await rejection.promise;
      expect(error).toBeInstanceOf(RangeError);
      expect(String(error)).toContain('delayMs');
      // Not settled by the bad call: the handler's success acks it.
      await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'acked after the handler' });
    });
  });

  describe('the context', () => {
    it('gives the pattern and the metadata our envelope carries, an empty object otherwise', async () => {
      const seen: Array<{ pattern: string; metadata: Record<string, unknown> }> = [];
      await start((_data, ctx) => {
        seen.push({ pattern: ctx.getPattern(), metadata: ctx.getMetadata() });
      });
      await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, '1', METADATA_FIELD, '{"traceId":"t-1"}');
      await scene.produce.add('sku', 'A1');
      await waitFor(() => seen.length === 2, { message: 'both handled' });
      expect(seen).toEqual([
        { pattern: `stream:${scene.stream}`, metadata: { traceId: 't-1' } },
        { pattern: `stream:${scene.stream}`, metadata: {} },
      ]);
    });
  });

  describe('ctx.ack()', () => {
    it('resolves once Redis has the XACK', async () => {
      const pendingAfterAck = deferred<number>();
      await start(async (_data, ctx) => {
        await ctx.ack();
        pendingAfterAck.resolve(await scene.probe.pendingCount());
      });
      await scene.produce.add('n', '1');
      expect(await pendingAfterAck.promise).toBe(0);
    });
  });

  describe('a key replaced by another type while running (item 12)', () => {
    it('stops everything on that stream with one error, then stays quiet', async () => {
      const server = await start(() => undefined);
      const commandsName = `nrs:${scene.group}:c1:commands`;
      const disconnected = firstValueFrom(server.status.pipe(filter((s) => s === RedisStreamsStatus.DISCONNECTED)));
      await scene.redis.del(scene.stream);
      await scene.redis.set(scene.stream, 'now a string');
      await disconnected;
      // Quiet: the command connection sends nothing more for that stream (no scans, no lease renewals).
      await waitFor(
        async () => {
          const [connection] = await scene.probe.clientsNamed(commandsName);
          return connection !== undefined && Number(connection.idle) >= 2;
        },
        { timeoutMs: 6_000, intervalMs: 200, message: 'the command connection idle for 2 s' },
      );
      expect(logger.matching('error', scene.stream)).toHaveLength(1);
      expect(logger.matching('error', scene.stream)[0]!.message).toContain('WRONGTYPE');
      expect(logger.matching('warn', 'WRONGTYPE')).toEqual([]);
    }, 15_000);
  });

  describe('an entry deleted while pending on a dead consumer (item 13)', () => {
    it('is removed from the pending list and never reaches a handler', async () => {
      const seen: unknown[] = [];
      const { redis, stream, group } = scene;
      const gone = await scene.produce.add('n', 'gone');
      const kept = await scene.produce.add('n', 'kept');
      await redis.xgroup('CREATE', stream, group, '0');
      await redis.xreadgroup('GROUP', group, 'dead', 'COUNT', 2, 'STREAMS', stream, '>');
      await redis.xdel(stream, gone);
      await start(
        (data) => {
          seen.push(data);
        },
        { claimIdleMs: 100 },
      );
      await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: `${kept} acked, ${gone} dropped` });
      expect(seen).toEqual([{ n: 'kept' }]);
    });
  });
});
